"""`cl-vs-mim train` end to end: exact resume after SIGKILL, torchrun DDP against one process, one-line errors.

Every training process runs with one OpenMP thread (OMP_NUM_THREADS=1): two processes share this 2-core machine, and
bit-identical comparisons need the same thread count on both sides.
"""
import json, os, signal, subprocess, sys, time
from pathlib import Path

import pytest
import torch

from conftest import ROOT, run_cli

BIN = Path(sys.executable).parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
# SimMIM on the small ViT with drop path (so the per-step seeding matters): 96 images / batch 16 = 6 steps per
# epoch, 2 epochs = 12 steps, a checkpoint every 4 steps.
SIMMIM = ["--set", "method=simmim", "model=vit_tiny_d6_patch4_28", 'model_kwargs={"drop_path_rate": 0.1}',
          "train_images=96", "batch_size=16", "epochs=2", "blr=1e-3", "warmup_epochs=0.5", "ckpt_every=4"]
# The DDP comparison runs without drop path: the model's own randomness is seeded by (seed, step, rank), so it
# differs between world sizes (the data, views and masks do not).
SIMMIM_NO_DROP = [a for a in SIMMIM if not a.startswith("model_kwargs=")]
# MoCo v3 with small projector/predictor (the loss and BatchNorm layers are MoCo v3's) to keep it fast.
MOCO = ["--set", "method=moco_v3", 'method_kwargs={"dim": 64, "mlp_dim": 256}', "train_images=64", "batch_size=16",
        "epochs=2", "blr=1.5e-4", "ckpt_every=100"]


def _train_cmd(out, sets, *extra):
    return [str(BIN / "cl-vs-mim"), "train", *sets, "--out", str(out), "--no-progress", *extra]


def _run(cmd, timeout=300):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=ENV)
    assert p.returncode == 0, (p.stdout, p.stderr)
    return p


def _losses(out, kind="step"):
    recs = [json.loads(l) for l in (Path(out) / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in recs if r["kind"] == kind]


def _load(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def _assert_identical(a: dict, b: dict, where=""):
    assert a.keys() == b.keys(), where
    for k in a:
        if isinstance(a[k], torch.Tensor): assert torch.equal(a[k], b[k]), f"{where}{k} differs"
        elif isinstance(a[k], dict): _assert_identical(a[k], b[k], f"{where}{k}.")
        else: assert a[k] == b[k], f"{where}{k}: {a[k]} != {b[k]}"


def test_sigkill_then_resume_gives_identical_weights(tmp_path):
    "SIGKILL a run after its step-4 checkpoint (of 12 steps) and resume it: every tensor equals an uninterrupted run's."
    ref = subprocess.Popen(_train_cmd(tmp_path / "ref", SIMMIM), cwd=ROOT, env=ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    victim = subprocess.Popen(_train_cmd(tmp_path / "run", SIMMIM), cwd=ROOT, env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt, metrics = tmp_path / "run" / "checkpoint.pt", tmp_path / "run" / "metrics.jsonl"
    def step_5_logged():  # after the step-4 checkpoint, so the resume must also drop the records of step 5 on
        return metrics.exists() and metrics.read_text().count('"kind": "step"') >= 5
    deadline = time.monotonic() + 120
    while not step_5_logged() and victim.poll() is None and time.monotonic() < deadline: time.sleep(0.005)
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL
    assert ref.wait(timeout=300) == 0
    killed_at, logged = _load(ckpt)["step"], metrics.read_text().count('"kind": "step"')
    print(f"killed with the checkpoint at step {killed_at} and {logged} steps logged")
    assert killed_at in (4, 8) and killed_at < logged < 12 and not (tmp_path / "run" / "results.json").exists()
    _run(_train_cmd(tmp_path / "run", SIMMIM))  # resumes from the checkpoint
    a, b = _load(tmp_path / "ref" / "checkpoint.pt"), _load(ckpt)
    assert a["step"] == b["step"] == 12
    _assert_identical(a["method"], b["method"], "method.")
    _assert_identical(a["optimizer"], b["optimizer"], "optimizer.")
    _assert_identical(_load(tmp_path / "ref" / "encoder.pt"), _load(tmp_path / "run" / "encoder.pt"))
    assert _losses(tmp_path / "ref") == _losses(tmp_path / "run")  # the resumed metrics have no duplicate steps
    assert len(_losses(tmp_path / "run")) == 12
    # run again: a finished run is returned as is
    mtime = ckpt.stat().st_mtime_ns
    p = _run(_train_cmd(tmp_path / "run", SIMMIM))
    assert "12 steps" in p.stdout and ckpt.stat().st_mtime_ns == mtime


def _torchrun(out, sets):
    cmd = [str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", "-m", "cl_vs_mim.cli", "train", *sets,
           "--out", str(out), "--no-progress"]
    return _run(cmd)


def test_torchrun_two_cpu_processes_match_one_process(tmp_path):
    """2 gloo processes at the same global batch reproduce the loss curve of 1 process.

    SimMIM (no drop path, whose per-rank seeding differs by world size): same global batches, same per-sample views
    and masks, the mean of the per-rank losses equals the global
    mean, and DDP averages gradients: the curves agree to float summation order (rtol 1e-4; measured 7e-8).
    MoCo v3: keys are all-gathered, so the InfoNCE loss is the global one, but the BatchNorm layers of the projector
    and predictor normalise with per-rank statistics (8 images each) because SyncBatchNorm needs CUDA; so the curves
    only agree loosely: per step rtol 0.15 (measured up to 7 %), epoch means rtol 0.05 (measured 2 %). The first
    step, taken with identical weights, agrees within 5 % (measured 4.3 %); a loss without the all-gather (8 instead
    of 16 keys per query, ln 8 vs ln 16) would be ~25 % lower.
    """
    _run(_train_cmd(tmp_path / "s1", SIMMIM_NO_DROP))
    _torchrun(tmp_path / "s2", SIMMIM_NO_DROP)
    one, two = _losses(tmp_path / "s1"), _losses(tmp_path / "s2")
    assert len(one) == len(two) == 12
    torch.testing.assert_close(torch.tensor(two), torch.tensor(one), rtol=1e-4, atol=0)
    torch.testing.assert_close(torch.tensor(_losses(tmp_path / "s2", "epoch")),
                               torch.tensor(_losses(tmp_path / "s1", "epoch")), rtol=1e-4, atol=0)
    _run(_train_cmd(tmp_path / "m1", MOCO))
    _torchrun(tmp_path / "m2", MOCO)
    one, two = _losses(tmp_path / "m1"), _losses(tmp_path / "m2")
    assert len(one) == len(two) == 8
    torch.testing.assert_close(torch.tensor(two[0]), torch.tensor(one[0]), rtol=0.05, atol=0)
    torch.testing.assert_close(torch.tensor(two), torch.tensor(one), rtol=0.15, atol=0)
    torch.testing.assert_close(torch.tensor(_losses(tmp_path / "m2", "epoch")),
                               torch.tensor(_losses(tmp_path / "m1", "epoch")), rtol=0.05, atol=0)


# ---- bad input: one line on stderr, exit code 2

@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("finished")
    p = run_cli("train", "--recipe", "smoke-simmim", "--set", "epochs=0.5", "--out", out, "--no-progress")
    assert p.returncode == 0, p.stderr
    return out


def _one_line_error(p):
    assert p.returncode == 2, (p.stdout, p.stderr)
    err = p.stderr.strip()
    assert err.startswith("cl-vs-mim: error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def test_resume_with_another_config_lists_the_differing_fields(finished_run):
    p = run_cli("train", "--recipe", "smoke-simmim", "--set", "epochs=0.5", "blr=0.01", "seed=3",
                "--out", finished_run, "--no-progress")
    err = _one_line_error(p)
    from cl_vs_mim.training.recipes import recipe
    saved = recipe("smoke-simmim").blr
    assert f"blr: saved {saved}, now 0.01; seed: saved 0, now 3" in err and str(finished_run) in err, err


def test_corrupt_checkpoint_names_the_file(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"PK\x03\x04 half a zip file")
    err = _one_line_error(run_cli("train", "--recipe", "smoke-simmim", "--out", tmp_path))
    assert f"checkpoint {tmp_path / 'checkpoint.pt'} is unreadable" in err and "delete it" in err, err


@pytest.mark.parametrize("sets, expected", [
    (["method=simclr"], "unknown method 'simclr': choose one of moco_v3, moco_v3_local, simmim, mae"),
    (["bacth_size=16"], "unknown config key 'bacth_size': valid keys are name, method, method_kwargs,"),
    (["batch_size=18", "accum_steps=4"], "batch_size 18 is not divisible by world_size 1 × accum_steps 4 = 4"),
    (["method=moco_v3", "batch_size=4", "accum_steps=4"], "method 'moco_v3' needs at least 2: raise batch_size to 8"),
    (["train_images=70000"], "train_images 70000 is more than the 60000 images in the Fashion-MNIST train split"),
    (["view_kwargs.ratio=1.5"], "mask ratio 1.5 is outside (0, 1)"),
    (["schedule=step"], "choose one of cosine, multistep, constant"),
    (["epochs"], "expected key=value"),
], ids=["unknown-method", "unknown-key", "batch-divisibility", "min-batch", "train-images", "mask-ratio", "schedule",
        "set-syntax"])
def test_bad_input_is_one_line(tmp_path, capsys, sets, expected):
    "In-process through cli.main (fast): the same code path as the installed entry point."
    from cl_vs_mim.cli import main
    code = main(["train", "--recipe", "smoke-simmim", "--set", *sets, "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("cl-vs-mim: error: ") and "\n" not in err, err
    assert expected in err, err
    assert not (tmp_path / "out").exists()  # nothing written for a rejected config
