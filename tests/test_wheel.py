"The wheel a researcher installs: it carries the inputs the package reads, and it works outside the source tree."
import os, subprocess, sys, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, cwd, timeout=900, env=None):
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert p.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
    return p


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    "(wheel, fresh venv's bin folder, a work folder outside the repository)."
    tmp = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--no-build-isolation", "-w", tmp / "dist"], tmp)
    wheel, = (tmp / "dist").glob("cl_vs_mim-*.whl")
    _run([sys.executable, "-m", "venv", tmp / "venv"], tmp)
    bin_ = tmp / "venv" / "bin"
    # the lock's versions: every dependency comes from pip's cache or the local wheel folders, as make installs them
    _run([bin_ / "python", "-m", "pip", "install", "--quiet", "-c", ROOT / "requirements-lock.txt", wheel], tmp)
    work = tmp / "work"; work.mkdir()
    return wheel, bin_, work


def test_the_wheel_carries_the_literature_photos_and_figure_notebooks(installed):
    names = set(zipfile.ZipFile(installed[0]).namelist())
    shipped = lambda folder, ext: {Path(n).name for n in names if n.startswith(f"cl_vs_mim/_resources/{folder}/") and n.endswith(ext)}
    assert shipped("literature", ".csv") == {p.name for p in (ROOT / "data" / "literature").glob("*.csv")}
    assert shipped("figures", ".ipynb") == {p.name for p in (ROOT / "nbs" / "figures").glob("*.ipynb")}
    assert "cl_vs_mim/_resources/photos.csv" in names


def test_the_installed_package_runs_outside_the_source_tree(installed):
    _, bin_, work = installed
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "CL_VS_MIM_HOME": str(work / "home")}
    where = _run([bin_ / "python", "-c", "import cl_vs_mim, timm; from cl_vs_mim.core import resource; "
                  "print(cl_vs_mim.__file__); print(resource('figures')); timm.create_model('vit_tiny_d6_patch4_28')"], work, env=env)
    package, figures = where.stdout.split()
    assert not Path(package).is_relative_to(ROOT) and Path(figures).is_relative_to(Path(package).parent)
    assert _run([bin_ / "cl-vs-mim", "--version"], work, env=env).stdout.startswith("cl-vs-mim ")
    p = _run([bin_ / "cl-vs-mim", "analyze", "--model", "vit_tiny_d6_patch4_28", "--data", "photos", "--out", work / "photos",
              "--no-progress"], work, env=env)
    assert (work / "photos" / "attention_by_block.csv").stat().st_size > 0, p.stdout
    _run([bin_ / "cl-vs-mim", "reproduce", "--profile", "random", "--only", "P-TabA1", "--out", work / "reports",
          "--runs", work / "runs", "--no-progress"], work, env=env)
    # the paper's table, read from the wheel's package data, is rendered in the report
    items = (work / "reports" / "random" / "items.csv").read_text()
    assert "P-TabA1" in items and "literature" in items
    page = (work / "reports" / "random" / "index.html").read_text()
    assert "literature: P-TabA1" in page and "1.25e-3" in page and "Pre-training (hybrid)" in page
