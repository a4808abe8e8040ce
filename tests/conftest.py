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
