"""The shared command line: overrides, and bad input -> one line on stderr, exit 2, no trial started."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studies import arch_ablation, cli, k_sweep, lr_search, theory_check


REPO = Path(__file__).resolve().parents[2]
STUDIES = {"arch_ablation": arch_ablation, "k_sweep": k_sweep, "lr_search": lr_search,
           "theory_check": theory_check}


def test_parse_overrides_types_values():
    assert cli.parse_overrides(["k=2", "g_loss=minimax", "fc_hidden=true", "lr_g=1e-3"]) == \
        {"k": 2, "g_loss": "minimax", "fc_hidden": True, "lr_g": 0.001}
    with pytest.raises(cli.StudyInputError, match=r"^--set 'k' is not of the form key=value"):
        cli.parse_overrides(["k"])
    with pytest.raises(cli.StudyInputError, match=r"^config key 'k' is given twice"):
        cli.parse_overrides(["k=1", "k=2"])


def test_default_name_is_stable():
    p = k_sweep.build_parser()
    assert cli.default_name("k_sweep", p.parse_args([])) == "k_sweep"
    assert cli.default_name("k_sweep", p.parse_args(["--smoke-test"])) == "k_sweep_smoke"
    assert cli.default_name("k_sweep", p.parse_args(["--name", "mine"])) == "mine"


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_help(study, capsys):
    with pytest.raises(SystemExit) as e:
        STUDIES[study].main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {study} ")
    for option in ("--smoke-test", "--storage-path", "--name", "--resume", "--address", "--cpus-per-trial",
                   "--gpus-per-trial", "--max-failures"):
        assert option in out


# ------------------------------------------------------------------------------------------------- bad input
def _not_a_dir(tmp_path: Path) -> str:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    return str(blocker / "results")  # as root, permissions do not stop writes; a file in the path does


BAD_INPUT = {
    "unknown option": (k_sweep, ["--bogus"], "k_sweep: error: unrecognized arguments: --bogus"),
    "invalid k in the space": (k_sweep, ["--k", "0,1"],
                               "k_sweep: error: invalid trial config (variant='k0_non_saturating', seed=0): "
                               "config key 'k' = 0 is out of range; allowed: >= 1"),
    "invalid image size": (arch_ablation, ["--image-size", "48"],
                           "arch_ablation: error: invalid base config: config key 'image_size' = 48 is not "
                           "allowed for dataset 'mnist5k' with arch 'dcgan'; allowed: 32 | 64 (and 28, the digits' "
                           "own size, for the MNIST family with arch 'mlp')"),
    "unknown --set key": (lr_search, ["--set", "lr_dd=0.1"],
                          "lr_search: error: invalid base config: unknown config key 'lr_dd' (did you mean "
                          "'lr_d'?); allowed keys: arch, batch_size, "),
    "invalid theory steps": (theory_check, ["--steps", "0"],
                             "theory_check: error: invalid trial config (variant='mu0_sd1', seed=0): theory config "
                             "key 'steps' = 0 is not allowed; allowed: an integer >= 1"),
    "unreachable address": (k_sweep, ["--address", "127.0.0.1:1"],
                            "k_sweep: error: cannot reach the Ray cluster at '127.0.0.1:1': Connection refused"),
    "malformed address": (k_sweep, ["--address", "nowhere"],
                          "k_sweep: error: --address 'nowhere': allowed forms: host:port, auto, ray://host:port"),
    "unwritable storage path": (k_sweep, None, "k_sweep: error: --storage-path "),
    "resume without a study": (k_sweep, ["--resume"], "k_sweep: error: --resume: no study to resume at "),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, capsys):
    module, argv, expected = BAD_INPUT[case]
    storage = tmp_path / "results"
    if argv is None:
        storage = Path(_not_a_dir(tmp_path))
        argv = []
    with pytest.raises(SystemExit) as e:
        module.main(["--smoke-test", "--storage-path", str(storage), *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n")
    assert err.startswith(expected)
    if case == "unwritable storage path":
        assert err == (f"k_sweep: error: --storage-path '{storage}' is not writable: Not a directory; allowed: a "
                       f"writable local directory or a URI such as s3://bucket/prefix\n")
    # nothing ran: no experiment directory was made
    assert not storage.exists() or list(storage.iterdir()) == []


def test_script_exits_2_with_one_line(tmp_path):
    """The real process: run as a script from the repository root, bad value -> one stderr line, exit code 2."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    proc = subprocess.run([sys.executable, "studies/k_sweep.py", "--k", "1,-2", "--storage-path",
                           str(tmp_path)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == ("k_sweep: error: invalid trial config (variant='k-2_non_saturating', seed=0): "
                           "config key 'k' = -2 is out of range; allowed: >= 1\n")
    assert list(tmp_path.iterdir()) == []


def test_an_interruption_exits_130_in_one_line(capsys):
    from studies.cli import StudyInterrupted, run_main

    def interrupted():
        raise StudyInterrupted("interrupted; continue with: python studies/k_sweep.py --resume")

    def ctrl_c():
        raise KeyboardInterrupt

    for body, line in ((interrupted, "interrupted; continue with: python studies/k_sweep.py --resume"),
                       (ctrl_c, "interrupted")):
        with pytest.raises(SystemExit) as e:
            run_main("k_sweep", body)
        assert e.value.code == 130
        assert capsys.readouterr().err == f"k_sweep: error: {line}\n"


def test_the_resume_command_is_the_command_with_resume_once():
    from studies.cli import resume_command

    assert resume_command(["studies/k_sweep.py", "--name", "a b"]) == \
        "python studies/k_sweep.py --name 'a b' --resume"
    assert resume_command(["studies/k_sweep.py", "--resume"]) == "python studies/k_sweep.py --resume"


def test_a_study_run_as_a_module_resumes_as_a_module_from_anywhere():
    """python -m studies.k_sweep (ray job submit on a cluster) has the script's absolute path on that node as
    argv[0]: the resume line names the module, not a path on the head."""
    from studies.cli import resume_command

    script = str(Path(cli.__file__).resolve().parent / "k_sweep.py")
    assert resume_command([script, "--smoke-test"]) == "python -m studies.k_sweep --smoke-test --resume"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_a_study_the_way_ctrl_c_does(sig):
    """Inside the context SIGTERM (kill, ray job stop) and SIGHUP (the SSH session of ray submit dropped) arrive as
    SIGINT (what Tune handles by saving its state); outside, their handlers are what they were. (A stand-in SIGINT
    handler records it: Ray, started in this process by other tests, may have put its own in place of Python's.)"""
    from studies.cli import sigterm_as_ctrl_c

    before = signal.getsignal(sig)
    got: list[int] = []
    previous_int = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    try:
        with sigterm_as_ctrl_c():
            os.kill(os.getpid(), sig)
            deadline = time.monotonic() + 5
            while not got and time.monotonic() < deadline:  # handlers run between bytecodes of the main thread
                time.sleep(0.01)
    finally:
        signal.signal(signal.SIGINT, previous_int)
    assert got == [signal.SIGINT]
    assert signal.getsignal(sig) is before


HELP_STUDIES = ["arch_ablation", "goodfellow2014", "k_sweep", "lr_search", "mode_collapse", "theory_check"]


@pytest.mark.parametrize("study", HELP_STUDIES)
def test_help_answers_without_loading_torch_or_ray(study):
    """``--help`` (and any refused option) is answered by argparse before the runner's imports: torch and Ray take
    seconds to load, which a user reading the options should not wait for."""
    code = ("import runpy, sys\n"
            f"sys.argv = ['studies/{study}.py', '--help']\n"
            "try:\n"
            f"    runpy.run_path('studies/{study}.py', run_name='__main__')\n"
            "except SystemExit as e:\n"
            "    print('exit', e.code)\n"
            "print('loaded', sorted(m for m in ('torch', 'ray') if m in sys.modules))\n")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    lines = got.stdout.strip().splitlines()
    assert lines[0].startswith(f"usage: {study}") and lines[-2:] == ["exit 0", "loaded []"], got.stderr[-2000:]


@pytest.mark.parametrize("command, study", [("gan-arch-ablation", "arch_ablation"), ("gan-k-sweep", "k_sweep"),
                                            ("gan-mode-collapse", "mode_collapse")])
def test_each_study_is_also_a_command(command, study):
    import shutil

    assert shutil.which(command) is not None, f"{command} is not installed: pip install -e ."
    got = subprocess.run([command, "--help"], capture_output=True, text=True, timeout=120)
    assert got.returncode == 0 and got.stdout.startswith(f"usage: {study}")
