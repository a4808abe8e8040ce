import os, sys
from pathlib import Path
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, timeout=600):
    "Run the installed `cl-vs-mim` entry point as a user would; return the CompletedProcess."
    import subprocess
    exe = Path(sys.executable).with_name("cl-vs-mim")
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    ("`cl-vs-mim reproduce --profile smoke` with relative folders, as `make reproduce` runs the cpu profile: once per"
     " session, shared by test_figures.py and test_browser.py.")
    from cl_vs_mim.reporting.report import reproduce
    root = tmp_path_factory.mktemp("run")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        report = reproduce("smoke", "reports", runs_root="runs", progress=False)
    finally:
        os.chdir(cwd)
    return root / "reports", report
