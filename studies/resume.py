"""``--resume`` runs what the study stored, not what today's arguments would build.

Why: Ray restores a study's trials from its experiment state, but the runner builds the evaluator, the resources
and the search space from the arguments of the command at hand. A resume with other arguments therefore mixed two
studies in one without a word: ``--resume --dataset grid25`` on a ring8 study scored ring8 generators against 25
modes from the next report on; ``--set eval_samples=20`` changed the sample count mid-run; a resume without the
``--smoke-test`` the study began with scored its last reports on 1,000 samples instead of 100; ``--seeds`` and
``--steps`` were ignored. Now:

- ``study_args``: with ``--resume``, the arguments are the ones the study was started with (``study.json``
  "command", parsed again by the study's own parser); an option given now that would change the design (a study
  option, a ``--set``, the preset, ``--cpus-per-trial``, which sets the trials' torch threads) is refused in one line
  naming the option, the stored value and the given one. Options that only say how to run (``EXECUTION_OPTIONS``:
  where, resources, restarts, timeouts, logs) are applied, and said.
- ``design_record`` / ``check_design``: the trials and the evaluator's settings are stored in ``study.json``
  ("design") when a study starts; a resume whose spec differs (built by another version of the code, or by a caller
  of ``run_study`` that passes other arguments) is refused in one line naming the first difference.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Mapping, Sequence

from studies.cli import StudyInputError, default_name
from studies.experiment_dir import STUDY_FILE, ExperimentDir, locate, read_text
from studies.trial import StudyTrial

# Options that say how to run a study, not what it is: a resume may change them.
EXECUTION_OPTIONS = frozenset({"storage_path", "name", "resume", "address", "gpus_per_trial", "max_failures",
                               "worker_logs", "ray_output", "allow_cpu_fallback", "start_timeout",
                               "trial_timeout"})
_WHERE = frozenset({"storage_path", "name", "resume"})  # how the study is found: never reported as a change


def study_args(study: str, build_parser: Callable[[], argparse.ArgumentParser], argv: Sequence[str] | None,
               name: Callable[[argparse.Namespace], str] | None = None) -> argparse.Namespace:
    """The study's arguments: ``argv`` parsed; with ``--resume``, the stored command's arguments with the execution
    options of ``argv`` on top (see the module docstring). ``name(args)`` gives a study's default experiment name
    where it is not ``cli.default_name``. A study that cannot be found or read is left for ``run_study`` to refuse."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.resume:
        return args
    loc = locate(args.storage_path, args.name if args.name is not None else
                 (name(args) if name is not None else default_name(study, args)))
    stored_command = _stored_command(loc)
    if stored_command is None:
        return args
    stored = _parse_stored(build_parser, stored_command[1:], loc)
    given = _given(build_parser, sys.argv[1:] if argv is None else argv)
    options = _option_names(parser)
    merged = argparse.Namespace(**vars(stored))
    applied = []
    for dest, value in given.items():
        before = getattr(stored, dest)
        if dest in EXECUTION_OPTIONS:
            if dest not in _WHERE and value != before:
                applied.append(f"{options[dest]} {_shown(value, 'none')} (the study ran with "
                               f"{_shown(before, 'none')})")
            setattr(merged, dest, value)
        elif value != before:
            raise StudyInputError(
                f"--resume: {options[dest]} {_shown(value)} differs from the study's own {options[dest]} "
                f"{_shown(before)} ({loc.join(STUDY_FILE)}: {' '.join(stored_command)}); allowed: leave it out (a "
                f"resume runs what the study stored), or start a new study under another --name")
    merged.storage_path, merged.name, merged.resume = args.storage_path, loc.name, True
    if applied:
        print(f"--resume: applied {'; '.join(applied)}", flush=True)
    return merged


def design_record(spec: Any, inception: bool) -> dict[str, Any]:
    """What a resume must not change: every trial's config (variant and seed included) and the evaluator's
    settings, as JSON values (what ``study.json`` holds)."""
    evaluator = None
    if spec.evaluator_config is not None:
        evaluator = {"config": spec.evaluator_config.to_flat(), "options": dict(spec.evaluator_options),
                     "inception": bool(inception)}
    trials = sorted((t.tune_config() for t in spec.design), key=lambda c: json.dumps(c, sort_keys=True, default=str))
    return _json({"trials": trials, "evaluator": evaluator})


def check_design(loc: ExperimentDir, stored: Mapping[str, Any], now: Mapping[str, Any]) -> None:
    """StudyInputError naming the first difference between the stored design and the one about to run."""
    if stored == now:
        return
    where = f"--resume: the study at {loc.experiment_path!r} was started with"
    allowed = ("allowed: resume it with the arguments (and the version of gan-study) it was started with, or start "
               "a new study under another --name")
    if stored["evaluator"] != now["evaluator"]:
        key, a, b = _first_difference(stored["evaluator"] or {}, now["evaluator"] or {})
        raise StudyInputError(f"{where} evaluator {key}={a!r}, and this run would score with {key}={b!r}; {allowed}")
    if len(stored["trials"]) != len(now["trials"]):
        raise StudyInputError(f"{where} {len(stored['trials'])} trials, and this run would have "
                              f"{len(now['trials'])}; {allowed}")
    for old, new in zip(stored["trials"], now["trials"]):
        if old != new:
            key, a, b = _first_difference(old, new)
            raise StudyInputError(f"{where} {key}={a!r} in trial ({StudyTrial.from_tune(old).label()}), and this run would have {key}={b!r}; "
                                  f"{allowed}")


def _first_difference(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[str, Any, Any]:
    missing = object()
    for key in sorted(set(a) | set(b)):
        x = a[key] if key in a else missing  # a key on one side only is the difference itself
        y = b[key] if key in b else missing
        if x != y:
            if isinstance(x, Mapping) and isinstance(y, Mapping):
                inner, x, y = _first_difference(x, y)
                key = f"{key}.{inner}"
            return key, (None if x is missing else x), (None if y is missing else y)
    raise AssertionError("no difference")


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _stored_command(loc: ExperimentDir) -> list[str] | None:
    try:
        record = json.loads(read_text(loc, STUDY_FILE))
    except (OSError, ValueError, UnicodeDecodeError):  # none, or damaged: run_study says which
        return None
    command = record["command"] if isinstance(record, dict) and "command" in record else None
    if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
        raise StudyInputError(f"--resume: {loc.join(STUDY_FILE)} holds no command the study was started with; "
                              f"allowed: a study.json written by gan-study")
    return command


def _parse_stored(build_parser: Callable[[], argparse.ArgumentParser], argv: Sequence[str],
                  loc: ExperimentDir) -> argparse.Namespace:
    parser = build_parser()

    def refuse(message: str) -> None:
        raise StudyInputError(f"--resume: the command stored in {loc.join(STUDY_FILE)} cannot be read by this "
                              f"version of the study ({' '.join(message.split())}); allowed: resume it with the "
                              f"version of gan-study that started it")
    parser.error = refuse  # type: ignore[method-assign]  -- this parse must not exit
    return parser.parse_args(list(argv))


class _Unset(list):
    """What ``_given`` pre-fills every option with: argparse keeps an attribute that is already there instead of
    setting the option's default, and appends to it for an ``append`` option (hence a list)."""


def _given(build_parser: Callable[[], argparse.ArgumentParser], argv: Sequence[str]) -> dict[str, Any]:
    """The options ``argv`` gives explicitly, with their values."""
    dests = vars(build_parser().parse_args([]))
    parsed = vars(build_parser().parse_args(list(argv), namespace=argparse.Namespace(
        **{dest: _Unset() for dest in dests})))
    return {dest: list(v) if isinstance(v, _Unset) else v for dest, v in parsed.items()
            if not (isinstance(v, _Unset) and not v)}


def _option_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """dest -> the option's long name (``overrides`` -> ``--set``)."""
    return {a.dest: a.option_strings[-1] for a in parser._actions if a.option_strings}  # argparse's own list


def _shown(value: Any, unset: str = "(not given: the preset's value)") -> str:
    if value is None:
        return unset
    if value is True:
        return "(given)"
    if value is False:
        return "(not given)"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) if value else "(none)"
    return str(value)
