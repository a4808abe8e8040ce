"`cl-vs-mim reproduce` end to end: the smoke profile (runs, papermill figures, claims, report) and the official profile."
import csv, json, math
from pathlib import Path
import nbformat
import pytest

FIGURES = {
    "P-Fig02_attention_maps": ["P-Fig02_attention_maps", "P-Fig02_query_divergence"],
    "P-Fig03_attention_distance": ["P-Fig03_attention_distance"],
    "P-Fig04_attention_nmi": ["P-Fig04_attention_nmi", "P-FigE1a_nmi_head_spread"],
}


def _rows(path):
    with open(path) as f: return list(csv.DictReader(f))


def test_every_figure_notebook_ran(smoke_run):
    from cl_vs_mim.reporting.profiles import FIGURES as REGISTRY, get_profile, figure_notebooks
    out, report = smoke_run
    expected = {p.stem.split("_")[0] for p in figure_notebooks()} - set(get_profile("smoke").skip)
    assert set(report["records"]) == expected and expected <= set(REGISTRY)
    assert {r["status"] for r in report["records"].values()} == {"produced"}, report["records"]


def test_report_lists_every_item_and_claim(smoke_run):
    "All 57 items and 25 claims are in the report; the smoke profile computes every claim's value but gives no verdict."
    out, _ = smoke_run
    items = _rows(out / "smoke" / "items.csv")
    assert len(items) == 57 and not [r for r in items if r["status"] in ("failed", "not run")]
    claims = _rows(out / "smoke" / "claim_verdicts.csv")
    assert [int(c["claim"]) for c in claims] == list(range(1, 26))
    parts = _rows(out / "smoke" / "claims.csv")   # one row per claim part, the columns of the verdict rule
    assert list(parts[0]) == ["claim", "part", "n_seeds", "mean", "low", "high", "verdict", "detail"]
    assert {int(p["claim"]) for p in parts} == set(range(1, 26)) and {p["verdict"] for p in parts} == {"not checkable"}
    models = _rows(out / "smoke" / "models.csv")   # who is who, as data
    assert {(m["model"], m["method"], m["stage"]) for m in models} >= {("MoCo v3 (CL)", "moco_v3", "pre-trained"),
                                                                       ("SimMIM, fine-tuned (MIM)", "simmim", "FT")}
    assert {c["verdict"] for c in claims} == {"not checkable"}
    evaluated = {int(c["claim"]) for c in claims if c["our_value"]}
    assert evaluated == set(range(1, 20)) - {4}, evaluated  # 4 and 20-25 need runs no profile trains
    assert not [c for c in claims if "could not evaluate" in c["note"]]
    page = (out / "smoke" / "index.html").read_text()
    for item in items: assert f"id='{item['item']}'" in page
    import re
    for src in re.findall(r"<img src='([^']+)'>", page): assert (out / "smoke" / src).exists(), src
    assert "Items (57): 19 produced, 26 literature" in (out / "smoke" / "summary.md").read_text()


def test_runs_are_cached_and_reused(smoke_run, tmp_path):
    "Every run of the plan (the core pair and the untrained control at 2 seeds, a third SimMIM seed) is trained once; a second reproduce of one figure trains nothing."
    import os
    from cl_vs_mim.reporting.report import reproduce
    out, report = smoke_run
    runs = _rows(out / "smoke" / "runs.csv")
    from cl_vs_mim.reporting.profiles import get_profile
    assert [r["run"] for r in runs] == list(get_profile("smoke").runs) and {r["cached"] for r in runs} == {"False"}
    assert {(r["method"], r["seed"]) for r in runs if r["stage"] == "pre-trained"} >= {
        ("moco_v3", "0"), ("moco_v3", "1"), ("simmim", "0"), ("simmim", "1"), ("mae", "0")}
    assert {r["seed"] for r in runs if r["family"] == "random"} == {"0", "1"}   # the untrained control's probes
    local = next(r for r in runs if r["run"] == "moco_v3_local-finetune")     # fine-tunes the 3x3-window encoder
    folder = Path(local["folder"]) if Path(local["folder"]).is_absolute() else out.parent / local["folder"]
    assert json.loads((folder / "config.json").read_text())["model_kwargs"] == {"attn_kernel_size": 3}
    probe = next(r for r in runs if r["run"] == "mae-probe")
    assert probe["init"] == "mae" and 0 <= float(probe["accuracy"]) <= 1
    assert (probe["method"], probe["stage"], probe["seed"], probe["train_method"]) == ("mae", "LP", "0", "linear_probe")
    reinit = next(r for r in runs if r["run"] == "simmim-finetune-reinit-first2")
    assert (reinit["method"], reinit["family"], reinit["stage"], reinit["reinit"]) == ("simmim", "MIM", "FT", "first2")
    cwd = os.getcwd(); os.chdir(out.parent)
    try:
        again = reproduce("smoke", "reports2", only=["P-Fig03"], runs_root="runs", progress=False)
    finally:
        os.chdir(cwd)
    assert list(again["runs"].run) == ["moco_v3", "moco_v3-s1", "simmim", "simmim-s1", "simmim-s2"] and again["runs"].cached.all()
    assert again["records"]["P-Fig03"]["status"] == "produced"


def test_image_intervals_of_every_model(smoke_run):
    "Each of the profile's models' per-image metrics with a bootstrap interval over the 8 images, from the cached passes."
    from cl_vs_mim.reporting.profiles import get_profile
    out, _ = smoke_run
    rows = _rows(out / "smoke" / "image_intervals.csv")
    assert {r["model"] for r in rows} == {m.label for m in get_profile("smoke").models}
    assert {r["n_images"] for r in rows} == {"8"} and {"distance_px", "nmi", "fourier_delta_high"} <= {r["metric"] for r in rows}
    assert all(float(r["low"]) <= float(r["mean"]) <= float(r["high"]) for r in rows)


def test_every_figure_writes_png_pdf_and_csv(smoke_run):
    "Each notebook writes at least one figure (PNG + PDF of the same stem) and the numbers behind it as CSV."
    out, report = smoke_run
    for r in report["records"].values():
        files = r["files"]
        pngs = {f[:-4] for f in files if f.endswith(".png")}
        pdfs = {f[:-4] for f in files if f.endswith(".pdf")}
        assert pngs and pngs == pdfs, (r["item"], files)
        assert any(f.endswith(".csv") for f in files), (r["item"], files)


@pytest.mark.parametrize("figure", sorted(FIGURES))
def test_figure_files_and_injected_parameters(smoke_run, figure):
    out, _ = smoke_run
    d = out / "smoke" / figure
    for stem in FIGURES[figure]:
        for ext in ("png", "pdf", "csv"):
            assert (d / f"{stem}.{ext}").stat().st_size > 0, f"{stem}.{ext} missing"
    nb = nbformat.read(out / "smoke" / "notebooks" / f"{figure}.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "profile = \"smoke\"" in injected[0].source
    assert '"label": "MoCo v3 (CL)"' in injected[0].source and "encoder.pt" in injected[0].source  # the trained run


def test_distance_and_nmi_tables_are_sane(smoke_run):
    out, _ = smoke_run
    dist = _rows(out / "smoke" / "P-Fig03_attention_distance" / "P-Fig03_attention_distance.csv")
    nmi = _rows(out / "smoke" / "P-Fig04_attention_nmi" / "P-Fig04_attention_nmi.csv")
    from cl_vs_mim.reporting.profiles import get_profile
    models = len(get_profile("smoke").models)   # MoCo v3 and the untrained control at 2 seeds, SimMIM at 3
    assert models == 7 and len(dist) == len(nmi) == models * 6  # x six blocks
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
                 "--images", "4", "--batch-size", "2", "--out", str(d / "reports"), "--no-progress",
                 "--only", *(f.split("_")[0] for f in FIGURES)])
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
    nb = nbformat.read(out / "notebooks" / "P-Fig03_attention_distance.ipynb", as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert '"source": "moco_v3"' in injected.source and "vit-b-300ep.pth.tar" in injected.source
