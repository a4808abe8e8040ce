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
    from cl_vs_mim.reproduce import FIGURES as REGISTRY, figure_notebooks
    out, results = smoke_run
    assert sorted(r["figure"] for r in results) == sorted(p.stem for p in figure_notebooks())
    assert {r["figure"].split("_")[0] for r in results} <= set(REGISTRY)


def test_every_figure_writes_png_pdf_and_csv(smoke_run):
    "Each notebook writes at least one figure (PNG + PDF of the same stem) and the numbers behind it as CSV."
    out, results = smoke_run
    for r in results:
        files = r["files"]
        pngs = {f[:-4] for f in files if f.endswith(".png")}
        pdfs = {f[:-4] for f in files if f.endswith(".pdf")}
        assert pngs and pngs == pdfs, (r["figure"], files)
        assert any(f.endswith(".csv") for f in files), (r["figure"], files)


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


@pytest.fixture(scope="module")
def official_run(tmp_path_factory):
    "`cl-vs-mim reproduce --profile official` on small files in the official MoCo v3 / SimMIM layouts and an image folder."
    import cl_vs_mim  # noqa: F401 (before timm)
    import timm, torch
    from cl_vs_mim.cli import main
    from cl_vs_mim.data import natural_photos
    d = tmp_path_factory.mktemp("official")
    small = dict(img_size=32, patch_size=8, embed_dim=96, depth=2, num_classes=0)
    moco = timm.create_model("vit_base_patch16_224", num_heads=12, **small)
    torch.save({"epoch": 300, "state_dict": {f"module.base_encoder.{k}": v for k, v in moco.state_dict().items()}},
               d / "vit-b-300ep.pth.tar")
    simmim = timm.create_model("beit_base_patch16_224", num_heads=3, global_pool="token", use_abs_pos_emb=False,
                               use_rel_pos_bias=False, use_shared_rel_pos_bias=True, init_values=0.1, **small)
    torch.save({"model": {f"encoder.{k}": v for k, v in simmim.state_dict().items()}}, d / "simmim_800ep.pth")
    for i, (name, img) in enumerate(natural_photos()[:4]):
        (d / "val" / f"n0{i % 2}").mkdir(parents=True, exist_ok=True)
        img.convert("RGB").resize((48, 40)).save(d / "val" / f"n0{i % 2}" / f"{name}.JPEG")
    code = main(["reproduce", "--profile", "official", "--checkpoint", f"moco_v3={d / 'vit-b-300ep.pth.tar'}",
                 "--checkpoint", f"simmim={d / 'simmim_800ep.pth'}", "--data", "folder", str(d / "val"),
                 "--images", "4", "--batch-size", "2", "--out", str(d / "reports"), "--only", *FIGURES])
    return code, d / "reports" / "official"


def test_official_profile_regenerates_every_figure_from_checkpoint_files(official_run):
    code, out = official_run
    assert code == 0
    for figure, stems in FIGURES.items():
        for stem in stems:
            for ext in ("png", "pdf", "csv"):
                assert (out / figure / f"{stem}.{ext}").stat().st_size > 0, f"{figure}/{stem}.{ext} missing"
    nmi = _rows(out / "P-Fig04_attention_nmi" / "P-Fig04_attention_nmi.csv")
    assert sorted({r["model"] for r in nmi}) == ["MoCo v3 (CL)", "SimMIM (MIM)"]
    assert len(nmi) == 2 * 2  # two models x two blocks: the architecture came from the files
    nb = nbformat.read(out / "P-Fig03_attention_distance" / "P-Fig03_attention_distance.ipynb", as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert '"source": "moco_v3"' in injected.source and "vit-b-300ep.pth.tar" in injected.source
