"`cl-vs-mim analyze` end to end through the installed entry point, and its one-line errors."
import csv
import numpy as np
import pytest
import torch
from PIL import Image


def _rows(path):
    with open(path) as f: return list(csv.DictReader(f))


def test_analyze_fashion_mnist_writes_table_csv_and_plot(cli, tmp_path):
    p = cli("analyze", "--model", "vit_tiny_d6_patch4_28", "--data", "fashion-mnist", "--images", 20,
            "--batch-size", 8, "--out", tmp_path, "--no-progress")
    assert p.returncode == 0, p.stderr
    assert "20 images" in p.stdout and "distance_px" in p.stdout
    for name in ("attention_per_head.csv", "attention_by_block.csv", "attention.png", "attention.pdf"):
        assert (tmp_path / name).stat().st_size > 0
    rows = _rows(tmp_path / "attention_by_block.csv")
    assert [int(r["block"]) for r in rows] == list(range(1, 7))
    for r in rows:  # 7x7 grid of 4-px patches: distances within [0, 33.94], NMI within [0, 1]
        assert 0 <= float(r["distance_px"]) <= 33.95 and 0 <= float(r["nmi"]) <= 1
    assert {int(r["n_images"]) for r in _rows(tmp_path / "attention_per_head.csv")} == {20}


def test_analyze_image_folder_and_checkpoint(cli, tmp_path):
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for cls in ("cat", "dog"):
            d = tmp_path / "imgs" / split / cls; d.mkdir(parents=True)
            for i in range(2):
                Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(d / f"{i}.png")
    import cl_vs_mim, timm, cl_vs_mim.models  # noqa: F401  (registers the project models)
    torch.save(timm.create_model("beit_tiny_d6_patch4_28").state_dict(), tmp_path / "w.pth")
    p = cli("analyze", "--model", "beit_tiny_d6_patch4_28", "--checkpoint", tmp_path / "w.pth",
            "--data", "folder", tmp_path / "imgs", "--images", 4, "--out", tmp_path / "out", "--no-progress")
    assert p.returncode == 0, p.stderr
    assert "4 images" in p.stdout
    assert (tmp_path / "out" / "attention.png").exists()


@pytest.mark.parametrize("args, expected", [
    (["--model", "resnet18"], "has no ViT attention blocks"),
    (["--model", "vit_tiny_d6_patch4_28", "--images", "0"], "--images must be at least 1 (got 0)"),
    (["--model", "vit_tiny_d6_patch4_28", "--checkpoint", "/nonexistent/w.pth"], "/nonexistent/w.pth"),
    (["--model", "no_such_model_xyz"], "unknown model 'no_such_model_xyz'"),
    (["--model", "vit_tiny_d6_patch4_28", "--data", "mnist"], "choose fashion-mnist, photos, folder PATH or hf PATH"),
], ids=["resnet18", "images-0", "missing-checkpoint", "unknown-model", "unknown-data"])
def test_bad_input_is_one_actionable_line(cli, args, expected):
    p = cli("analyze", *args, *([] if "--images" in args else ["--images", "2"]))
    assert p.returncode == 2, (p.stdout, p.stderr)
    err = p.stderr.strip()
    assert "\n" not in err and expected in err, err
    assert "Traceback" not in err


def test_not_a_state_dict_and_empty_folder(cli, tmp_path):
    (tmp_path / "notes.pth").write_text("not a checkpoint")
    p = cli("analyze", "--model", "vit_tiny_d6_patch4_28", "--checkpoint", tmp_path / "notes.pth", "--images", 2)
    assert p.returncode == 2 and "notes.pth" in p.stderr and "\n" not in p.stderr.strip(), p.stderr
    (tmp_path / "empty" / "val" / "cat").mkdir(parents=True)
    p = cli("analyze", "--model", "vit_tiny_d6_patch4_28", "--data", "folder", tmp_path / "empty", "--images", 2)
    assert p.returncode == 2 and "empty" in p.stderr and "\n" not in p.stderr.strip(), p.stderr
