"""The command line checkpoints, resumes, locks its output folder and answers
every misuse with one line and exit code 2.

The end-to-end test kills ``neurosim train toy`` with SIGKILL once its first
checkpoint is on disk, reruns it with ``--resume`` and compares the final
parameters with an uninterrupted run's, bit for bit.
"""

import fcntl
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import neurosim as ns
from neurosim.cli import CHECKPOINT_NAME, LOCK_NAME, main

# A tiny seed-003 run: 10 inputs, 32 samples in 4 batches, many short epochs.
TINY = [
    "--batch-size",
    "8",
    "--set",
    "n_input=10",
    "--set",
    "n_train=32",
    "--set",
    "n_test=8",
    "--no-progress",
]
EPOCHS = 400


def neurosim_cmd(*args):
    return [sys.executable, "-m", "neurosim.cli", *args]


def one_line_error(capsys, starts="neurosim "):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(starts), err
    assert "Traceback" not in err
    return lines[0]


def load_all(path):
    return {
        t: {k: np.asarray(v) for k, v in p.items()}
        for t, p in ns.load_params(path).items()
    }


def test_kill_9_mid_run_then_resume_equals_an_uninterrupted_run(tmp_path, capsys):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    argv = ["train", "toy", "--epochs", str(EPOCHS), *TINY]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    reference = subprocess.Popen(
        neurosim_cmd(*argv, "--out", str(whole)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    victim = subprocess.Popen(
        neurosim_cmd(*argv, "--out", str(killed)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (killed / CHECKPOINT_NAME).exists():
        assert victim.poll() is None, "the run ended before its first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.002)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL
    epoch = ns.io.checkpoint_meta(killed / CHECKPOINT_NAME)["epoch"]
    assert epoch < EPOCHS - 1, "killed too late: the run had finished training"
    assert not (killed / "metrics.json").exists()

    # without --resume the folder is refused; with it the run continues
    # (the dead run's lock went with its process)
    assert main([*argv, "--out", str(killed)]) == 2
    assert "--resume" in one_line_error(capsys)
    resumed = subprocess.run(
        neurosim_cmd(*argv, "--out", str(killed), "--resume"),
        env=env,
        capture_output=True,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    assert reference.wait() == 0, reference.stderr.read().decode()[-2000:]
    reference.stderr.close()

    a, b = load_all(whole / "params.npz"), load_all(killed / "params.npz")
    assert a.keys() == b.keys()
    for target in a:
        assert a[target].keys() == b[target].keys()
        for key in a[target]:
            np.testing.assert_array_equal(a[target][key], b[target][key])
            assert a[target][key].dtype == b[target][key].dtype
    assert ns.io.checkpoint_meta(killed / CHECKPOINT_NAME)["epoch"] == EPOCHS - 1


def hold_lock(folder):
    """Another process holding ``folder``'s lock as a run does; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    code = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(folder / LOCK_NAME)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.ftruncate(fd, 0); os.write(fd, f'{os.getpid()}\\n'.encode())\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"locked\n"
    return proc


@pytest.mark.parametrize("command", [["train", "toy"], ["demo"]])
def test_a_second_run_into_a_folder_in_use_is_refused_naming_its_pid(
    tmp_path, capsys, command
):
    out = tmp_path / "busy"
    other = hold_lock(out)
    try:
        assert main([*command, "--out", str(out), "--no-progress"]) == 2
        line = one_line_error(capsys)
        assert f"pid {other.pid}" in line and "in use" in line
    finally:
        other.kill()
        other.wait()
        other.stdout.close()
    assert not (out / "metrics.json").exists()


def test_the_lock_does_not_outlive_a_killed_process(tmp_path):
    out = tmp_path / "o"
    other = hold_lock(out)
    other.send_signal(signal.SIGKILL)
    other.wait()
    other.stdout.close()
    fd = os.open(out / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
    finally:
        os.close(fd)


def bad_out_dirs(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    return {
        "existing-file": (str(a_file), "exists and is not a folder"),
        "dev-null": ("/dev/null", "exists and is not a folder"),
        "under-dev-null": ("/dev/null/run", "cannot create"),
        "under-a-file": (str(a_file / "run"), "cannot create"),
    }


@pytest.mark.parametrize(
    "case", ["existing-file", "dev-null", "under-dev-null", "under-a-file"]
)
@pytest.mark.parametrize("command", [["train", "toy"], ["demo"]])
def test_bad_out_is_refused_before_any_work(tmp_path, capsys, command, case):
    out, says = bad_out_dirs(tmp_path)[case]
    t0 = time.perf_counter()
    assert main([*command, "--out", out, "--no-progress"]) == 2
    assert says in one_line_error(capsys)
    assert time.perf_counter() - t0 < 5  # nothing was loaded or trained


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_out_is_refused(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["train", "toy", "--out", str(ro / "run")]) == 2
        assert "cannot create" in one_line_error(capsys)
        assert main(["train", "toy", "--out", str(ro)]) == 2
        assert "not writable" in one_line_error(capsys)
    finally:
        ro.chmod(0o700)


def test_a_checkpoint_from_another_run_is_refused_without_resume(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    ns.io.save_checkpoint(out / CHECKPOINT_NAME, {"x": np.zeros(2)}, meta={})
    assert main(["train", "toy", "--out", str(out)]) == 2
    line = one_line_error(capsys)
    assert "--resume" in line and "another --out" in line
    assert main(["demo", "--out", str(out)]) == 2
    assert "--resume" in one_line_error(capsys)


def test_resume_with_other_settings_is_refused_by_name(tmp_path, capsys):
    out = tmp_path / "o"
    argv = ["train", "toy", "--epochs", "1", *TINY, "--out", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    assert (out / CHECKPOINT_NAME).exists() and (out / "metrics.json").exists()
    # another learning rate is refused, by name
    assert main([*argv, "--lr", "0.5", "--resume"]) == 2
    line = one_line_error(capsys)
    assert "lr" in line and "0.5" in line and "another --out" in line


def test_demo_checkpoints_into_out(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--epochs", "1", "--out", str(out), "--no-progress"]) == 0
    assert ns.io.checkpoint_meta(out / CHECKPOINT_NAME)["epoch"] == 0
    assert (out / "metrics.json").exists()
    capsys.readouterr()
    assert main(["demo", "--epochs", "1", "--out", str(out)]) == 2
    assert "--resume" in one_line_error(capsys)


# ----------------------------------------------------------------- one validation path
# Every value reaches the task config's typed checks, whether given as a flag
# or with --set: one line, exit 2, no traceback.
BAD_SETTINGS = [
    ["--set", "batch_size=0"],
    ["--batch-size", "0"],
    ["--set", "dt=0"],
    ["--set", "dt=-1"],
    ["--set", "lr=-1"],
    ["--lr", "-1"],
    ["--lr", "0"],
    ["--lr", "nan"],
    ["--lr", "inf"],
    ["--set", "lr=1e400"],
    ["--set", 'lr="fast"'],
    ["--set", "surrogate=foo"],
    ["--set", "encoder=morse"],
    ["--set", "loss=mse"],
    ["--set", "optimizer=sgd"],
    ["--seed", "99999999999999999999"],
    ["--set", "seed=99999999999999999999"],
    ["--seed", "-1"],
    ["--set", "seed=1.5"],
    ["--set", "seed=true"],
    ["--epochs", "0"],
    ["--set", "epochs=-3"],
    ["--set", "epochs=99999999999999999999"],
    ["--hidden", "0"],
    ["--hidden", "99999999999999999999"],
    ["--set", "hidden=[]"],
    ["--set", "hidden=[4, -1]"],
    ["--set", "hidden=4"],
    ["--set", "n_steps=1.5"],
    ["--set", "n_steps=0"],
    ["--set", "n_train=0"],
    ["--set", "label_smoothing=1"],
    ["--set", "recurrent=yes"],
    ["--set", "tau_mem=0"],
    ["--set", "tau_max=-2"],
    ["--set", "gain=nan"],
    ["--set", "lr_scale=3"],
    ["--set", 'lr_scale={"gS": -1}'],
    ["--set", "no_such_setting=1"],
    ["--set", "data_init=true"],
]


@pytest.mark.parametrize("extra", BAD_SETTINGS, ids=" ".join)
def test_every_bad_setting_is_one_line_and_exit_2(extra, capsys, tmp_path):
    out = tmp_path / "o"
    assert main(["train", "yinyang", "--out", str(out), *extra]) == 2
    line = one_line_error(capsys, "neurosim train yinyang: ")
    assert "expected" in line or "has no setting" in line
    assert not out.exists()  # refused before --out was touched


@pytest.mark.parametrize("task", ["toy", "mts-xor", "shd"])
def test_flags_and_set_give_the_same_error(task, capsys, tmp_path):
    out = str(tmp_path / "o")
    for a, b in (
        (["--lr", "-1"], ["--set", "lr=-1"]),
        (["--seed", "99999999999999999999"], ["--set", "seed=99999999999999999999"]),
        (["--batch-size", "0"], ["--set", "batch_size=0"]),
    ):
        assert main(["train", task, "--out", out, *a]) == 2
        first = one_line_error(capsys)
        assert main(["train", task, "--out", out, *b]) == 2
        # the same check: the same message (a flag's -1 parses as -1.0)
        assert one_line_error(capsys).replace(".0.", ".") == first.replace(".0.", ".")
