"""``python -m gan_core.train``: trains, writes a grid and a checkpoint, ends with one JSON line; bad input exits 2."""
import json
import re
import shutil
import subprocess
import sys

import pytest

from gan_core.train import main


def test_trains_and_prints_final_metrics_as_json(tmp_path, capsys):
    code = main(["dataset=ring8", "steps=20", "eval_every=10", "mlp_hidden=16", "--out", str(tmp_path)])
    lines = capsys.readouterr().out.strip().splitlines()
    final = json.loads(lines[-1])
    assert code == 0
    assert (final["g_steps"], final["d_steps"], final["status"]) == (20, 20, "ok")
    assert (tmp_path / "samples.png").stat().st_size > 0 and (tmp_path / "state.pt").is_file()


def test_image_run_writes_a_sample_grid(tmp_path, capsys):
    code = main(["ngf=8", "ndf=8", "batch_size=8", "steps=2", "eval_every=2", "--no-metrics", "--out", str(tmp_path)])
    assert code == 0
    from PIL import Image

    with Image.open(tmp_path / "samples.png") as im:
        assert im.size == (8 * 32 + 9 * 2, 8 * 32 + 9 * 2)  # 8x8 grid of 32 px images, 2 px padding


@pytest.mark.parametrize("argv, fragment", [
    (["kk=3"], "unknown config key 'kk'"),
    (["k=0"], "config key 'k' = 0 is out of range; allowed: >= 1"),
    (["g_loss=hinge"], "config key 'g_loss' = 'hinge' is not allowed"),
    (["k"], "argument 'k' is not of the form key=value"),
    (["k=1", "k=2"], "config key 'k' is given twice"),
])
def test_bad_input_is_one_line_and_exit_2(argv, fragment, tmp_path, capsys):
    assert main(argv + ["--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_config_larger_than_the_machines_memory_is_refused_before_anything_is_written(tmp_path, capsys):
    assert main(["dataset=ring8", "nz=100000000", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("python -m gan_core.train: error: config needs about 1.37 TB of memory for one run")
    assert "this machine's cpu has available; allowed: a config that fits" in err
    assert not (tmp_path / "out").exists()


def test_an_out_dir_without_room_for_the_state_file_is_refused_up_front(tmpfs, capsys):
    from gan_core.memory import estimate
    from gan_core.config import GANConfig

    flat = {"dataset": "mnist5k", "ngf": 64, "ndf": 64, "steps": 2, "eval_every": 2}
    need = estimate(GANConfig.from_flat(flat)).parameter_bytes * 3 // 4 + 2**20
    (tmpfs / "filler").write_bytes(b"\0" * (shutil.disk_usage(tmpfs).free - need // 2))
    argv = [f"{k}={v}" for k, v in flat.items()] + ["--no-metrics", "--out", str(tmpfs / "run")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(rf"python -m gan_core.train: error: --out '{re.escape(str(tmpfs / 'run'))}' has [0-9,]+ "
                        rf"bytes free, less than the {need:,} that the run's state.pt and samples.png need; "
                        rf"allowed: a directory with room for them\n", err)
    assert not (tmpfs / "run").exists()


def test_a_read_only_out_dir_is_refused_up_front(tmpfs, capsys):
    from tests.mounts import remount

    (tmpfs / "run").mkdir()
    remount(tmpfs, "ro")
    try:
        assert main(["dataset=ring8", "steps=2", "eval_every=2", "--out", str(tmpfs / "run")]) == 2
    finally:
        remount(tmpfs, "rw")
    err = capsys.readouterr().err
    assert err == (f"python -m gan_core.train: error: --out '{tmpfs / 'run'}' is not writable (Read-only file "
                   f"system); allowed: a writable directory\n")


def test_unknown_option_exits_2_with_one_line():
    proc = subprocess.run([sys.executable, "-m", "gan_core.train", "--bogus"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["python -m gan_core.train: error: unrecognized arguments: --bogus"]
