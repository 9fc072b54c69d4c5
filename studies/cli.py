"""The command line every study shares: one parser class, the common options, the exit-2 rule, and how a
running study is stopped and continued (SIGTERM as Ctrl+C, the ``--resume`` command).

Why a custom parser: argparse answers bad input with the whole usage block plus an error line. A study is often
run from scripts and cluster jobs, where the one thing that matters is one clear line on stderr and exit code 2,
before any Ray process starts. ``StudyInputError`` carries the same contract for errors found after parsing (an
invalid value in the search space, an unreachable cluster, an unwritable results directory).

A study's own options and its presets (``--smoke-test``, ``--full``) are declared in ``studies.options``; how an
option's text becomes a value, in ``studies.option_types``.
"""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Mapping, NoReturn, Sequence

from gan_core.config import parse_overrides as config_overrides
from gan_core.train import OneLineParser
from studies.option_types import non_negative_float, non_negative_int, positive_float, positive_int

EXIT_USAGE = 2
EXIT_FAILED = 1  # the study ran but did not finish (as for trials that failed after all restarts)
EXIT_INTERRUPTED = 130  # Ctrl+C, by the shell's convention (128 + SIGINT): unfinished, resumable with --resume
MEMBERS_AUTO = "auto"  # --members-per-trial's default: studies.members decides
GPUS_AUTO = "auto"  # --gpus-per-trial's default: studies.capacity decides from what the cluster can provide
# A GPU worker on AWS takes minutes to boot and set up; 20 minutes is several of those, and far less than a study.
DEFAULT_START_TIMEOUT_S = 1200.0


class StudyInputError(Exception):
    """Bad input found after parsing; ``main`` prints it as one line and exits with code 2."""


class StudyStorageError(Exception):
    """The storage path stopped taking data mid-study (full, read-only, gone); ``main`` prints it as one line and
    exits with code 1: the study is not lost, it continues with --resume once the storage is fixed."""


class StudyClusterError(Exception):
    """The cluster could not run the study (no node that can run a trial came up, a trial hung, Ray's own
    processes died); ``main`` prints it as one line and exits with code 1. The line says what was missing and, once
    the study has started, ends with its --resume command."""


class StudyInterrupted(Exception):
    """Ctrl+C hit the study a second time, so Ray stopped at once (its last snapshot stays); ``main`` prints the
    message (how to continue) as one line and exits with code 130."""


StudyParser = OneLineParser  # an error is one line on stderr and exit code 2, as for python -m gan_core.train


def fail(prog: str, message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``prog: error: message`` as one line on stderr and exit with ``code`` (2: bad input)."""
    one_line = " ".join(str(message).split())
    sys.stderr.write(f"{prog}: error: {one_line}\n")
    sys.stderr.flush()
    raise SystemExit(code)


def study_main(study: str, build_parser: Callable[[], argparse.ArgumentParser],
               build_spec: Callable[[argparse.Namespace], Any], argv: Sequence[str] | None) -> int:
    """A design study's ``main``: parse ``argv``, build its spec, run it (``studies.runner.run_study``); the exit
    code (``run_main``). The runner (Ray, torch) is imported only once the arguments are parsed: ``--help`` and
    bad options answer at once."""
    def body() -> int:
        from studies.resume import study_args

        args = study_args(study, build_parser, argv)
        from studies.runner import run_study

        return run_study(build_spec(args), args, command=command_line(study, argv)).exit_code

    return run_main(study, body)


def run_main(prog: str, body: Callable[[], int]) -> int:
    """Run a study's body; a StudyInputError becomes the one-line exit 2, a StudyStorageError the one-line exit 1,
    an interruption (Ctrl+C) the one-line exit 130. (The first Ctrl+C during a study lets Ray save its state: the
    study then returns its run, whose exit code is 130 and whose summary ends with the --resume command.)"""
    try:
        return body()
    except StudyInputError as e:
        fail(prog, str(e))
    except (StudyStorageError, StudyClusterError) as e:
        fail(prog, str(e), EXIT_FAILED)
    except StudyInterrupted as e:
        fail(prog, str(e), EXIT_INTERRUPTED)
    except KeyboardInterrupt:  # before the study started (validation, the evaluator) or after its report
        fail(prog, "interrupted", EXIT_INTERRUPTED)


def make_parser(study: str, description: str, presets: Mapping[str, Mapping[str, Any]]) -> StudyParser:
    """The parser with the options every study has; the study adds its own afterwards."""
    p = StudyParser(prog=study, description=description,
                    epilog=f"Study options left out take the chosen preset's values; the default preset: "
                           f"{dict(presets['default'])}.")
    g = p.add_argument_group("preset")
    mode = g.add_mutually_exclusive_group()
    mode.add_argument("--smoke-test", action="store_true",
                      help="the same code path in about a minute on 2 CPU cores (tiny nets, few steps, 1 seed): "
                           f"preset {dict(presets['smoke'])}")
    if "full" in presets:
        mode.add_argument("--full", action="store_true",
                          help=f"the cluster preset: {dict(presets['full'])}")
    g.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override any GANConfig key for every trial (repeatable), e.g. --set batch_size=32; "
                        "keys the study varies are set by the study")

    p.add_argument("--inception-fid", action="store_true",
                   help="also report fid_inception, the standard Inception FID of papers (image datasets; needs "
                        "pip install -e '.[fid]' and the Inception weights in the torch hub cache: never downloaded)")

    r = p.add_argument_group("Ray")
    r.add_argument("--storage-path", default="./results",
                   help="where the experiment directory goes: a local or shared path (made absolute) or "
                        "s3://... (default: ./results)")
    r.add_argument("--name", default=None,
                   help=f"experiment directory name (default: '{study}', or '{study}_smoke' with --smoke-test); "
                        "a stable name is what lets --resume find the study")
    r.add_argument("--resume", action="store_true",
                   help="continue the interrupted study <storage-path>/<name>: unfinished and errored trials resume "
                        "from their last checkpoint, finished trials are not run again")
    r.add_argument("--address", default=None,
                   help="Ray cluster to join (host:port or 'auto'); default: $RAY_ADDRESS if set, else a local Ray "
                        "with this machine's CPUs")
    r.add_argument("--cpus-per-trial", type=positive_int, default=1,
                   help="CPUs per trial; torch threads follow it (config key 'threads') (default: 1)")
    r.add_argument("--gpus-per-trial", type=gpus_option, default=GPUS_AUTO, metavar="N|auto",
                   help="GPUs per trial, fractions pack trials onto one GPU; auto: 0.25 when the cluster has or can "
                        "start GPU nodes (its alive nodes and its autoscaler's node types), else 0 (default: auto)")
    r.add_argument("--allow-cpu-fallback", action="store_true",
                   help="let a trial that Ray gave a GPU train on the CPU when torch cannot use that GPU (for "
                        "tests with fake GPUs); without it such a trial, and the study's pre-flight check, fail "
                        "in one line naming torch's CUDA build and the driver")
    r.add_argument("--start-timeout", type=positive_float, default=DEFAULT_START_TIMEOUT_S, metavar="SECONDS",
                   help="how long the study waits for a node that can run its trials (the autoscaler starting "
                        "one) before it stops, naming what is missing, with its --resume command (default: "
                        f"{DEFAULT_START_TIMEOUT_S:g})")
    r.add_argument("--trial-timeout", type=positive_float, default=None, metavar="SECONDS",
                   help="restart a running trial that has reported nothing for this long, from its last "
                        "checkpoint (a hung worker; counts as one of its --max-failures) (default: none)")
    r.add_argument("--members-per-trial", type=members_option, default=MEMBERS_AUTO, metavar="N|auto",
                   help="seeds of a variant that one trial trains together as a population (gan_core.population), "
                        "each still its own result; auto: all of a variant's seeds (up to 128) on a GPU, chunks of "
                        "up to 8 for small 2D/1D networks on a CPU (where measured faster), else 1; searched "
                        "studies, the theory check and dropout always 1; a resume keeps the study's own "
                        "(default: auto)")
    r.add_argument("--max-failures", type=non_negative_int, default=2,
                   help="restarts of a crashed trial, each from its last checkpoint (default: 2)")
    r.add_argument("--ray-output", action="store_true",
                   help="Ray's own progress tables (a config table per trial start, a result table per trial end, "
                        "a status table every 30 s) instead of the study's one-line progress")
    r.add_argument("--worker-logs", action="store_true",
                   help="forward the trials' stdout/stderr to this terminal (off: only Ray's progress table)")
    from studies.tracker import add_options as add_tracker_options  # (it imports StudyInputError from here)

    add_tracker_options(p)
    return p


def default_name(study: str, args: argparse.Namespace) -> str:
    return args.name if args.name is not None else (f"{study}_smoke" if args.smoke_test else study)


def command_line(study: str, argv: Sequence[str] | None) -> list[str]:
    """The command as the user typed it (for study.json); ``main(argv)`` called in-process gets a stand-in."""
    return list(sys.argv) if argv is None else [f"studies/{study}.py", *argv]


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``--set`` items -> ``{key: value}`` by ``gan_core.config.parse_overrides``; StudyInputError if malformed."""
    try:
        return config_overrides(items, option="--set")
    except ValueError as e:
        raise StudyInputError(str(e)) from None


# --------------------------------------------------------------------------------------------- value types
def members_option(text: str) -> int | str:
    """``--members-per-trial``'s value: ``auto`` (``MEMBERS_AUTO``) or an integer >= 1."""
    if text == MEMBERS_AUTO:
        return text
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed; allowed: an integer >= 1, or 'auto'")
    return v


def gpus_option(text: str) -> float | str:
    """``--gpus-per-trial``'s value: ``auto`` (``GPUS_AUTO``) or a number >= 0."""
    return text if text == GPUS_AUTO else non_negative_float(text)


# --------------------------------------------------------------------------------------------- interrupts
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def sigterm_as_ctrl_c():
    """While the study runs, SIGTERM (``kill``, ``timeout``, ``ray job stop``, a batch system) and SIGHUP (the SSH
    session or terminal of ``ray submit`` closed) stop it the way Ctrl+C does: Ray saves the experiment state, and
    the driver ends with its summary, its --resume command and exit 130, and shuts down the Ray it started, instead
    of aborting in Ray's own handler (SIGTERM: exit -6 with a native stack trace) or dying at once (SIGHUP: exit 129,
    the local Ray's agents orphaned for minutes). Only in the main thread, where signal handlers can be set."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda signum, frame: os.kill(os.getpid(), signal.SIGINT))
                for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def resume_command(command: Sequence[str]) -> str:
    """The command that continues this study: the one it was started (or resumed) with, plus --resume. A study run
    as ``python -m studies.<study>`` (``ray job submit``, a cluster) has the absolute path of its script on that
    machine as argv[0]; its resume command is ``python -m studies.<study>`` again, which works from any directory of
    any machine where the project is installed, instead of naming a path on the head."""
    args = list(command)
    if "--resume" not in args:
        args.append("--resume")
    script = args[0] if args else ""
    here = os.path.dirname(os.path.abspath(__file__))
    if os.path.isabs(script) and os.path.dirname(script) == here and script.endswith(".py"):
        return shlex.join(["python", "-m", f"studies.{os.path.basename(script)[:-3]}", *args[1:]])
    return shlex.join(["python", *args])
