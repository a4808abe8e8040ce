"Papermill smoke run of the figure notebooks: parameters take effect and every figure writes PNG, PDF and CSV."
import csv, math
import nbformat
import pytest

FIGURES = {
    "P-Fig02_attention_maps": ["P-Fig02_attention_maps", "P-Fig02_query_divergence"],
    "P-Fig03_attention_distance": ["P-Fig03_attention_distance"],
    "P-Fig04_attention_nmi": ["P-Fig04_attention_nmi", "P-FigE1a_nmi_head_spread"],
}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    "Run the smoke profile with a relative output folder, as `make reproduce` does."
    import os
    from cl_vs_mim.reproduce import run_figures
    root = tmp_path_factory.mktemp("run")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        results = run_figures("smoke", "reports", progress=False)
    finally:
        os.chdir(cwd)
    return root / "reports", results


def _rows(path):
    with open(path) as f: return list(csv.DictReader(f))


def test_every_figure_notebook_ran(smoke_run):
    out, results = smoke_run
    assert sorted(r["figure"] for r in results) == sorted(FIGURES)


@pytest.mark.parametrize("figure", sorted(FIGURES))
def test_figure_files_and_injected_parameters(smoke_run, figure):
    out, _ = smoke_run
    d = out / "smoke" / figure
    for stem in FIGURES[figure]:
        for ext in ("png", "pdf", "csv"):
            assert (d / f"{stem}.{ext}").stat().st_size > 0, f"{stem}.{ext} missing"
    nb = nbformat.read(d / f"{figure}.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "profile = \"smoke\"" in injected[0].source


def test_distance_and_nmi_tables_are_sane(smoke_run):
    out, _ = smoke_run
    dist = _rows(out / "smoke" / "P-Fig03_attention_distance" / "P-Fig03_attention_distance.csv")
    nmi = _rows(out / "smoke" / "P-Fig04_attention_nmi" / "P-Fig04_attention_nmi.csv")
    assert len(dist) == len(nmi) == 2 * 6  # two models x six blocks
    assert all(0 < float(r["distance_px"]) <= 33.95 for r in dist)
    assert all(0 <= float(r["nmi"]) <= 1 for r in nmi)
    per_head = _rows(out / "smoke" / "P-Fig03_attention_distance" / "P-Fig03_attention_distance_per_head.csv")
    assert {int(r["n_images"]) for r in per_head} == {8}  # the smoke profile's image count reached the notebook
    js = _rows(out / "smoke" / "P-Fig02_attention_maps" / "P-Fig02_query_divergence.csv")
    assert all(0 <= float(r["query_divergence"]) <= math.log(2) + 1e-6 for r in js)
