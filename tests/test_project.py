"Project invariants that cross notebooks: pins, nbdev settings, papermill tags, README, exported package."
import configparser, re, shlex, subprocess, sys
from pathlib import Path
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def settings():
    c = configparser.ConfigParser(delimiters=["="]); c.read(ROOT / "settings.ini")
    return c["DEFAULT"]


def test_environment_yml_has_the_same_pins_as_settings_ini():
    s = settings()
    pins = shlex.split(s["requirements"]) + shlex.split(s["dev_requirements"])
    env = re.findall(r'^\s+- "(.+)"$', (ROOT / "environment.yml").read_text(), flags=re.M)
    assert [p for p in env if p != "-e ."] == pins
    assert "python=3.11" in (ROOT / "environment.yml").read_text()
    assert "torch==2.13.0" in pins and "torchvision==0.28.0" in pins and "nbdev==2.4.14" in pins


def test_nbdev_keeps_papermill_tags():
    assert "tags" in settings()["allowed_cell_metadata_keys"].split()


@pytest.mark.parametrize("nb", sorted((ROOT / "nbs" / "figures").glob("*.ipynb")), ids=lambda p: p.stem)
def test_figure_notebooks_have_one_parameters_cell(nb):
    cells = nbformat.read(nb, as_version=4).cells
    tagged = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{nb.name}: expected one cell tagged 'parameters'"
    for name in ("profile", "models", "data", "images", "out_dir"):
        assert re.search(rf"^{name} =", tagged[0].source, flags=re.M), f"{nb.name} lacks parameter {name}"


def test_readme_is_generated_from_index(tmp_path):
    from cl_vs_mim.cli import write_readme
    fresh = write_readme(readme=tmp_path / "README.md").read_text()
    assert fresh == (ROOT / "README.md").read_text(), "README.md is stale: run `make readme` and commit it"
    assert "make reproduce" in fresh and "make test" in fresh


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_exported_package_matches_notebooks():
    """The Makefile exports before the tests, so an exported module that differs from git while its notebook does not
    means the committed .py and its notebook disagree (someone edited the .py, or forgot to commit the export)."""
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse"], capture_output=True).returncode:
        pytest.skip("not a git checkout")
    status = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "cl_vs_mim", "nbs"],
                            capture_output=True, text=True).stdout.splitlines()
    changed = {line[3:] for line in status}
    stale = []
    for rel in sorted(c for c in changed if c.startswith("cl_vs_mim/") and c.endswith(".py")):
        m = re.search(r"File to edit: (\S+)\.", (ROOT / rel).read_text()) if (ROOT / rel).exists() else None
        if m is None: continue  # hand-written glue (__init__.py) or the generated index
        nb = (ROOT / rel).parent.joinpath(m.group(1)).resolve().relative_to(ROOT).as_posix()
        if nb not in changed and not any(nb.startswith(c) for c in changed if c.endswith("/")):
            stale.append(f"{rel} (from unchanged {nb})")
    assert not stale, f"exported modules differ from their committed notebooks: {stale}; edit nbs/, nbdev_export, commit"


def test_timm_imports_after_cl_vs_mim_in_a_fresh_process():
    code = "import cl_vs_mim, timm, torchvision, torch; print(hasattr(torch.ops.torchvision, 'nms'))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "True"
