"Project invariants that cross notebooks: pins, nbdev settings, papermill tags, README, exported package."
import configparser, re, shlex, subprocess, sys
from pathlib import Path
import nbformat, papermill
import pytest

ROOT = Path(__file__).resolve().parents[1]


def settings():
    c = configparser.ConfigParser(delimiters=["="]); c.read(ROOT / "settings.ini")
    return c["DEFAULT"]


def lock():
    "{package: version} of requirements-lock.txt."
    out = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            out[name.lower().replace("_", "-")] = version
    return out


def test_the_lock_satisfies_every_range_and_environment_yml_uses_it():
    from packaging.requirements import Requirement
    s, locked = settings(), lock()
    for key in ("requirements", "dev_requirements", "lab_requirements", "docs_requirements"):
        for req in map(Requirement, shlex.split(s[key])):
            name = req.name.lower().replace("_", "-")
            assert name in locked, f"{req} ({key}) is not in requirements-lock.txt"
            assert req.specifier.contains(locked[name], prereleases=True), f"lock {name}=={locked[name]} breaks {req}"
    # the package asks for ranges (it installs into a research environment); only the nbdev 2 toolchain is exact
    runtime = [Requirement(r) for r in shlex.split(s["requirements"])]
    assert not any("==" in str(r.specifier) for r in runtime), [str(r) for r in runtime]
    assert "jupyterlab" not in {r.name for r in runtime} and "nbdev" not in {r.name for r in runtime}
    assert {"nbdev==2.4.14", "fastcore<2", "execnb<0.2"} <= set(shlex.split(s["dev_requirements"]))
    assert locked["torch"].startswith("2.13.0") and locked["nbdev"] == "2.4.14"
    env = re.findall(r'^\s+- "(.+)"$', (ROOT / "environment.yml").read_text(), flags=re.M)
    assert env == ["-r requirements-lock.txt", "-e .[dev,lab,docs]"] and "python=3.11" in (ROOT / "environment.yml").read_text()
    assert "-c requirements-lock.txt" in (ROOT / "Makefile").read_text()


def test_setup_ships_the_resources_the_package_reads():
    "setup.py copies into a wheel exactly the inputs `cl_vs_mim.core.resource` looks for."
    from cl_vs_mim.core import RESOURCES
    import ast
    tree = ast.parse((ROOT / "setup.py").read_text())
    shipped = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                   and getattr(n.targets[0], "id", "") == "RESOURCES")
    assert shipped == RESOURCES and all((ROOT / path).exists() for path in RESOURCES.values())


def test_nbdev_keeps_papermill_tags():
    assert "tags" in settings()["allowed_cell_metadata_keys"].split()


@pytest.mark.parametrize("nb", sorted((ROOT / "nbs" / "figures").glob("*.ipynb")), ids=lambda p: p.stem)
def test_figure_notebooks_have_one_parameters_cell(nb):
    cells = nbformat.read(nb, as_version=4).cells
    tagged = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{nb.name}: expected one cell tagged 'parameters'"
    params = papermill.inspect_notebook(str(nb))   # what `papermill --help-notebook` shows
    for name in ("profile", "models", "data", "images", "out_dir"):
        assert name in params, f"{nb.name} lacks parameter {name}"
    for name, p in params.items():   # typed, with a trailing comment as its help
        assert p["inferred_type_name"] not in ("None", ""), f"{nb.name}: parameter {name} has no type annotation"
        assert p["help"].strip(), f"{nb.name}: parameter {name} has no trailing-comment help"


def test_readme_is_generated_from_index(tmp_path):
    from cl_vs_mim.reporting.report import write_readme
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


# --- Layers you can see (issue 15): lower layers never import higher ones, at module level or inside functions ------
import ast

LAYERS = {  # rank of each part of the package: a module imports only from lower ranks or from its own part
    "floor": 0,      # core, data, models, capture, checkpoints, pretrained
    "analysis": 1, "training": 1,   # siblings: neither imports the other
    "plots": 2, "reporting": 3, "tools": 4, "cli": 5,
}


def _part(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1: return "floor"  # the package itself
    return parts[1] if parts[1] in LAYERS else "floor"


def _import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    "Module → the package modules it imports anywhere in its file (module level, functions, relative or absolute)."
    pkg = root / "cl_vs_mim"
    mods = {}
    for p in pkg.rglob("*.py"):
        rel = p.relative_to(root).with_suffix("").parts
        mods[".".join(rel[:-1] if rel[-1] == "__init__" else rel)] = p
    graph = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import): targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                    base = base[:len(base) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else: mod = node.module or ""
                targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
            deps |= {t for t in targets if t in mods and t != name and t != "cl_vs_mim"}
        graph[name] = deps
    return graph


def test_no_import_circle():
    graph, state, cycles = _import_graph(), {}, []
    def visit(m, stack):
        state[m] = "open"
        for d in graph[m]:
            if state.get(d) == "open": cycles.append(" -> ".join(stack[stack.index(d):] + [d]))
            elif d not in state: visit(d, stack + [d])
        state[m] = "done"
    for m in sorted(graph):
        if m not in state: visit(m, [m])
    assert not cycles, f"import circles: {cycles}"


def _layer_violations(graph) -> list[str]:
    bad = []
    for m, deps in graph.items():
        if m.endswith("._modidx") or m.split(".")[-1] == "_modidx": continue
        for d in deps:
            pm, pd_ = _part(m), _part(d)
            if pm != pd_ and LAYERS[pd_] >= LAYERS[pm]: bad.append(f"{m} imports {d}")
    return sorted(bad)


def test_lower_layers_never_import_higher_ones():
    bad = _layer_violations(_import_graph())
    assert not bad, "layering broken: " + "; ".join(bad)


def test_the_layer_check_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "cl_vs_mim"
    for sub in ("analysis", "training", "reporting"): (pkg / sub).mkdir(parents=True); (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text(""); (pkg / "core.py").write_text("")
    (pkg / "training" / "loop.py").write_text("from ..core import x\n")
    (pkg / "reporting" / "report.py").write_text("from cl_vs_mim.training.loop import train\n")   # allowed: downward
    (pkg / "analysis" / "probe.py").write_text("def f():\n    from ..training import loop\n")  # sibling layer
    (pkg / "analysis" / "maps.py").write_text("def g():\n    import cl_vs_mim.reporting.report\n")  # upward
    test_eq = lambda a, b: (a == b) or pytest.fail(f"{a} != {b}")
    test_eq(_layer_violations(_import_graph(tmp_path)),
            ["cl_vs_mim.analysis.maps imports cl_vs_mim.reporting.report", "cl_vs_mim.analysis.probe imports cl_vs_mim.training",
             "cl_vs_mim.analysis.probe imports cl_vs_mim.training.loop"])


def test_import_registers_the_project_models_in_a_fresh_process():
    code = "import cl_vs_mim, timm; print(timm.create_model('vit_tiny_d6_patch4_28').patch_embed.grid_size, cl_vs_mim.__version__)"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["(7,", "7)", settings()["version"]]
