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


# --- hostile inputs (issue: locks, exit codes, bad images, one-line errors, partial outputs, file modes) -------------
import json, os, signal, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("cl-vs-mim")
INTERRUPTED = ("cl-vs-mim: interrupted (Ctrl-C): nothing half-written was kept; run the same command again "
               "(training resumes from its last checkpoint)")


def _one_line(p, code=2):
    err = p.stderr.strip()
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert "\n" not in err and "Traceback" not in err, err
    return err


def _sigint_default():  # a background shell starts children with SIGINT ignored; a user's terminal does not
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_second_train_on_a_running_run_folder_is_refused_and_ctrl_c_exits_130(cli, tmp_path):
    out = tmp_path / "run"
    first = subprocess.Popen([str(EXE), "train", "--recipe", "smoke-simmim", "--set", "epochs=400", "--out", str(out),
                              "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                             preexec_fn=_sigint_default)
    try:
        deadline = time.time() + 300
        while not (out / "metrics.jsonl").exists():  # training has started (the lock was taken before)
            assert first.poll() is None, first.communicate()
            assert time.time() < deadline, "the first train never started"
            time.sleep(0.2)
        second = cli("train", "--recipe", "smoke-simmim", "--set", "seed=1", "--out", out, "--no-progress")
        err = _one_line(second)
        assert err.startswith(f"cl-vs-mim: error: run folder {out} is in use by process {first.pid}"), err
        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=300)
    finally:
        if first.poll() is None: first.kill(); first.wait()
    assert first.returncode == 130, stderr
    assert stderr.strip() == INTERRUPTED, stderr
    steps = [r["step"] for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if r["kind"] == "step"]
    assert steps == list(range(1, len(steps) + 1)), steps  # one writer: every step logged once, in order
    assert json.loads((out / "config.json").read_text())["seed"] == 0
    assert not (out / ".cl-vs-mim.lock").exists()  # released (and removed) on the way out


def test_train_waits_for_nobody_once_the_holder_is_killed(cli, tmp_path):
    out = tmp_path / "run"
    hold = ("import sys, time; from cl_vs_mim.core import run_folder_lock\n"
            "with run_folder_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(600)")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(out)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        err = _one_line(cli("train", "--recipe", "smoke-simmim", "--out", out, "--no-progress"))
        assert f"run folder {out} is in use by process {holder.pid}" in err, err
        assert not (out / "metrics.jsonl").exists()
    finally:
        holder.kill(); holder.wait()  # kill -9: the kernel drops the lock
    p = cli("train", "--recipe", "smoke-simmim", "--set", "epochs=0.5", "--out", out, "--no-progress")
    assert p.returncode == 0, p.stderr
    assert (out / "results.json").exists()


def _folder_with_bad_images(root, good=3):
    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        d = root / "val" / cls; d.mkdir(parents=True)
        for i in range(good):
            Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(d / f"{i}.jpg")
    jpeg = (root / "val" / "cat" / "0.jpg").read_bytes()
    # named to sort first: each class's first images are the bad ones, so the balanced choice meets them
    (root / "val" / "cat" / "0_truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (root / "val" / "cat" / "0_empty.jpg").write_bytes(b"")
    (root / "val" / "dog" / "0_corrupt.jpg").write_bytes(b"\xff\xd8 not a jpeg" * 40)
    return root


def test_analyze_skips_unreadable_images_with_one_line_each(cli, tmp_path):
    imgs = _folder_with_bad_images(tmp_path / "imgs")
    p = cli("analyze", "--model", "vit_tiny_d6_patch4_28", "--data", "folder", imgs, "--images", 6,
            "--out", tmp_path / "out", "--no-progress")
    assert p.returncode == 0, p.stderr
    warned = [l for l in p.stderr.splitlines() if l.startswith("cl-vs-mim: warning: skipping unreadable image")]
    assert sorted(l.split()[5].rsplit("/", 1)[1] for l in warned) == ["0_corrupt.jpg", "0_empty.jpg", "0_truncated.jpg"], p.stderr
    assert f"cl-vs-mim: warning: skipped 3 unreadable image file(s) of {imgs}" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    assert "6 images (3 unreadable files skipped)" in p.stdout, p.stdout
    q = cli("analyze", "--model", "vit_tiny_d6_patch4_28", "--data", "folder", imgs, "--images", 7,
            "--out", tmp_path / "out2", "--no-progress")
    assert q.returncode == 2 and "Traceback" not in q.stderr, q.stderr
    errors = [l for l in q.stderr.splitlines() if not l.startswith("cl-vs-mim: warning: ")]
    assert len(errors) == 1, q.stderr
    err = errors[0]
    assert "only 6 of the 9 images of" in err and "--images 7 needs at least 7 readable images" in err, err


@pytest.mark.parametrize("args, expected", [
    (["--img-size", "-4"], "--img-size must be at least 1 (got -4)"),
    (["--img-size", "0"], "--img-size must be at least 1 (got 0)"),
    (["--img-size", "30"], "img_size 30 is not a multiple of model vit_tiny_d6_patch4_28's patch size 4"),
    (["--batch-size", "0"], "--batch-size must be at least 1 (got 0)"),
], ids=["img-size-negative", "img-size-0", "img-size-30", "batch-size-0"])
def test_out_of_range_arguments_are_one_line(cli, args, expected):
    err = _one_line(cli("analyze", "--model", "vit_tiny_d6_patch4_28", "--images", 2, *args))
    assert expected in err, err


def test_bench_images_negative_is_one_line(cli):
    assert "--images must be at least 1 (got -5)" in _one_line(cli("bench", "--images", "-5"))


def test_unwritable_out_fails_before_any_work(cli, tmp_path):
    (tmp_path / "file").write_text("")
    t0 = time.time()
    err = _one_line(cli("analyze", "--model", "vit_tiny_d6_patch4_28", "--images", 2000, "--out", tmp_path / "file" / "out"))
    assert f"cannot write --out {tmp_path / 'file'}" in err, err
    assert time.time() - t0 < 60  # 2000 images were never analysed
    # the order, whatever the speed: a checkpoint that does not exist is met later (model load), so its error must not show
    err = _one_line(cli("analyze", "--checkpoint", tmp_path / "missing.pth", "--out", tmp_path / "file" / "out"))
    assert f"cannot write --out {tmp_path / 'file'}" in err and "missing.pth" not in err, err


def test_nan_weights_are_refused_by_inspect(cli, tmp_path):
    import cl_vs_mim, timm, cl_vs_mim.models  # noqa: F401
    sd = timm.create_model("vit_tiny_d6_patch4_28", num_classes=0).state_dict()
    sd["blocks.1.mlp.fc1.weight"][0, 0] = float("nan")
    torch.save(sd, tmp_path / "nan.pth")
    err = _one_line(cli("inspect", tmp_path / "nan.pth"))
    assert "holds NaN or Inf values in 1 tensor (blocks.1.mlp.fc1.weight)" in err, err


@pytest.mark.parametrize("umask, file_mode, dir_mode", [(0o022, "0o644", "0o755"), (0o027, "0o640", "0o750")])
def test_outputs_get_the_umask_modes(tmp_path, umask, file_mode, dir_mode):
    p = subprocess.run([str(EXE), "analyze", "--model", "vit_tiny_d6_patch4_28", "--images", "4", "--out",
                        str(tmp_path / "out"), "--no-progress"], capture_output=True, text=True, cwd=ROOT, umask=umask)
    assert p.returncode == 0, p.stderr
    modes = {f.name: oct(f.stat().st_mode & 0o777) for f in (tmp_path / "out").iterdir()}
    assert set(modes.values()) == {file_mode}, modes
    assert oct((tmp_path / "out").stat().st_mode & 0o777) == dir_mode


def test_reproduce_exits_non_zero_naming_the_failed_figure(cli, tmp_path):
    import cl_vs_mim, timm, cl_vs_mim.models  # noqa: F401
    torch.save(timm.create_model("vit_tiny_d6_patch4_28", num_classes=0).state_dict(), tmp_path / "w.pth")
    bad = tmp_path / "imgs" / "val" / "cat"; bad.mkdir(parents=True)
    for i in range(3): (bad / f"{i}.jpg").write_bytes(b"not an image")
    p = cli("reproduce", "--profile", "official", "--checkpoint", f"timm={tmp_path / 'w.pth'}", "--data", "folder",
            tmp_path / "imgs", "--images", 2, "--only", "P-Fig03", "--out", tmp_path / "out", "--no-progress")
    assert p.returncode == 1, (p.stdout, p.stderr)
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("cl-vs-mim: error: 1 of 1 figure notebooks failed (P-Fig03): see "), p.stderr


def test_plan_lists_every_run_with_its_estimate(cli, tmp_path):
    "`cl-vs-mim plan` lists each run of a profile, its status in the run cache and its estimated seconds, each figure notebook's estimate, and a total."
    from cl_vs_mim.reporting.profiles import get_profile
    r = cli("plan", "--profile", "cpu-long", "--runs", tmp_path, "--jobs", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    runs = get_profile("cpu-long").runs
    assert len(lines) == 1 + len(runs) + 2                     # header, one line per run, the figures, the summary
    assert lines[1].split()[0] == next(iter(runs)) and all(l.split()[-2] == "todo" for l in lines[1:-2])
    assert "abl-conmim-tau0.2-finetune" in r.stdout and f"{len(runs)} of {len(runs)} runs to train" in lines[-1]
    assert lines[-2].startswith("figure notebooks (estimated s): P-Fig08 ") and lines[-1].endswith("min in all")
    bad = cli("plan", "--profile", "cpu-longer", "--runs", tmp_path)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and "unknown profile" in bad.stderr
