"""The experiment directory around Ray's own files: where it is, ``study.json``, the trial folders' names
(``trial_dirname``) and the report at the end.

``storage_path`` is a local or shared path (made absolute, checked writable before Ray starts) or a URI such as
``s3://bucket/prefix`` (written through pyarrow's filesystem, as Ray itself does; its permissions are Ray's to
check). The experiment directory is ``<storage_path>/<name>``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from typing import Any, Mapping

import pyarrow.fs as pafs

from studies.cli import StudyInputError
from studies.trial import StudyTrial

STUDY_FILE = "study.json"


@dataclass(frozen=True)
class ExperimentDir:
    storage_path: str      # what Ray gets as RunConfig.storage_path: an absolute path or a URI
    experiment_path: str   # <storage_path>/<name>

    @property
    def is_local(self) -> bool:
        return "://" not in self.storage_path

    @property
    def name(self) -> str:
        """The experiment's name (its folder under the storage path)."""
        return self.experiment_path.rstrip("/").rsplit("/", 1)[1]

    def join(self, *parts: str) -> str:
        return "/".join([self.experiment_path.rstrip("/"), *parts])


MAX_NAME = 100  # trial folders, lock and report files are named after it; the filesystem allows 255 bytes a name


def locate(storage_path: str, name: str) -> ExperimentDir:
    if not name or "/" in name or name in (".", "..") or "\0" in name:
        raise StudyInputError(f"--name {name!r}: allowed: one directory name, no '/'")
    if len(name.encode()) > MAX_NAME:
        raise StudyInputError(f"--name is {len(name.encode())} bytes long; allowed: one directory name of at most "
                              f"{MAX_NAME} bytes")
    if "://" in storage_path:
        return ExperimentDir(storage_path.rstrip("/"), f"{storage_path.rstrip('/')}/{name}")
    root = os.path.abspath(os.path.expanduser(storage_path))
    return ExperimentDir(root, os.path.join(root, name))


def check_writable(loc: ExperimentDir) -> None:
    """StudyInputError unless a local storage path can be created and written to (a URI is Ray's to check).

    A check only: the folders it had to create are removed again, so input refused later (an existing study, an
    unreachable cluster) leaves nothing behind; Ray creates the experiment directory when the study starts.
    """
    if not loc.is_local:
        return
    created = missing_dirs(loc.storage_path)
    try:
        os.makedirs(loc.storage_path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=loc.storage_path, prefix=".write-test-"):
            pass
    except OSError as e:
        raise StudyInputError(f"--storage-path {loc.storage_path!r} is not writable: {e.strerror or e}; allowed: "
                              f"a writable local directory or a URI such as s3://bucket/prefix") from None
    finally:
        for path in created:  # deepest first; one that is not empty (someone else wrote there) stays
            try:
                os.rmdir(path)
            except OSError:
                break


def missing_dirs(path: str) -> list[str]:
    """``path`` and those of its ancestors that do not exist yet, deepest first."""
    missing = []
    while not os.path.lexists(path) and os.path.dirname(path) != path:
        missing.append(path)
        path = os.path.dirname(path)
    return missing


def storage_problem(loc: ExperimentDir) -> str | None:
    """Why a local storage path no longer takes the study's data, in words, or None if it does.

    It does not when a test write fails (full, read-only, removed) or when it has less room left than the largest
    checkpoint of the study so far (the next checkpoint would not fit). A URI is Ray's to check: None.
    """
    if not loc.is_local:
        return None
    try:
        with tempfile.NamedTemporaryFile(dir=loc.storage_path, prefix=".write-test-") as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
        free = shutil.disk_usage(loc.storage_path).free
    except OSError as e:
        return f"cannot write to the storage path {loc.storage_path!r}: {e.strerror or e}"
    largest = max((os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(loc.experiment_path)
                   for f in files if f.endswith(".pt")), default=0)
    if free < largest:
        return (f"the storage path {loc.storage_path!r} is full: {free:,} bytes free, less than one checkpoint "
                f"({largest:,} bytes)")
    return None


def damaged_state(loc: ExperimentDir) -> str | None:
    """Why the newest experiment_state-*.json of an experiment cannot be read (e.g. cut short by a full disk), in
    words, or None when it can (or there is none)."""
    newest = _newest_state(loc)
    if newest is None:
        return None
    try:
        json.loads(read_text(loc, newest))
    except (ValueError, UnicodeDecodeError) as e:
        return f"Ray's experiment state {loc.join(newest)!r} is damaged ({str(e).splitlines()[0]})"
    return None


def unfinished_trials(loc: ExperimentDir) -> int:
    """How many trials the newest experiment state lists as neither finished nor failed: what --resume would run."""
    return len(unfinished_trial_ids(loc))


def unfinished_trial_ids(loc: ExperimentDir) -> set[str]:
    """The ids of the trials the newest experiment state lists as neither finished nor failed.

    Why the state and not the driver's ResultGrid: after Ctrl+C Ray marks every trial TERMINATED in memory, while
    the state it saves for --resume keeps the unfinished ones PENDING. Empty when there is no readable state.
    """
    newest = _newest_state(loc)
    if newest is None:
        return set()
    try:
        trials = [json.loads(item[0]) for item in json.loads(read_text(loc, newest))["trial_data"]]
        return {t["trial_id"] for t in trials if t["status"] not in ("TERMINATED", "ERROR")}
    except (ValueError, KeyError, IndexError, TypeError):
        return set()


def _newest_state(loc: ExperimentDir) -> str | None:
    """The name of the newest experiment_state-*.json in the experiment directory (the one --resume reads)."""
    fs, path = _fs(loc.experiment_path)
    states = sorted(i.base_name for i in fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
                    if i.base_name.startswith("experiment_state-") and i.base_name.endswith(".json"))
    return states[-1] if states else None


def experiment_exists(loc: ExperimentDir) -> bool:
    """True when the directory already holds a Tune experiment (its experiment_state file) or a study.json."""
    fs, path = _fs(loc.experiment_path)
    info = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    return any(i.base_name.startswith("experiment_state-") or i.base_name == STUDY_FILE for i in info)


def write_text(loc: ExperimentDir, relative: str, text: str) -> str:
    """Write one file into the experiment directory (local or URI); returns its path."""
    return write_bytes(loc, relative, text.encode())


def write_bytes(loc: ExperimentDir, relative: str, data: bytes) -> str:
    """Write one file of bytes into the experiment directory (local or URI); returns its path."""
    target = loc.join(relative)
    fs, path = _fs(target)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with fs.open_output_stream(path) as f:
        f.write(data)
    return target


def has_file(loc: ExperimentDir, relative: str) -> bool:
    """Whether the experiment directory holds the file ``relative``."""
    fs, path = _fs(loc.join(relative))
    return fs.get_file_info(path).type == pafs.FileType.File


def read_text(loc: ExperimentDir, relative: str) -> str:
    fs, path = _fs(loc.join(relative))
    with fs.open_input_stream(path) as f:
        return f.read().decode()


def study_json(study: str, primary_metric: str, mode: str, baseline_variant: str | None,
               variants: dict[str, dict[str, Any]], factors: list[str] | None, baseline: dict[str, Any],
               command: list[str], search: dict[str, str] | None = None,
               published: list[dict[str, Any]] | None = None, metric_modes: dict[str, str] | None = None,
               members_per_trial: int = 1, design: dict[str, Any] | None = None) -> str:
    """The study's own description for the analysis: what it compares, against what, by which metric, (for a
    search) which searcher and scheduler chose and stopped its trials, (for a reproduction) the paper's figures,
    the better direction of each quality metric its trials report (``metric_modes``, from the evaluator), and how
    many seeds a trial trained together (``members_per_trial``; for the record: each member is its own result), and
    the design a resume must keep (``design``: every trial's config and the evaluator's settings, ``studies.resume``).
    """
    return json.dumps({
        "study": study,
        "primary_metric": primary_metric,
        "mode": mode,
        "baseline_variant": baseline_variant,
        "variants": variants,
        "factors": factors,
        "baseline": baseline,
        "command": command,
        "search": search,
        "published": published or None,
        "metric_modes": metric_modes or {primary_metric: mode},
        "members_per_trial": members_per_trial,
        "design": design,
    }, indent=2, default=str) + "\n"


def read_study_json(loc: ExperimentDir) -> dict[str, Any]:
    """The study's study.json; StudyInputError (one line) when it is missing or damaged."""
    try:
        record = json.loads(read_text(loc, STUDY_FILE))
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise StudyInputError(f"--resume: {loc.join(STUDY_FILE)} cannot be read ({type(e).__name__}); allowed: a "
                              f"study started by gan-study, with its study.json") from None
    if not isinstance(record, dict):
        raise StudyInputError(f"--resume: {loc.join(STUDY_FILE)} is not a JSON object; allowed: a study started by "
                              f"gan-study, with its study.json")
    return record


def write_study_report(loc: ExperimentDir, result_grid: Any) -> list[str]:
    """The study's report through ``analysis.report.write_report``; if that is missing or fails, a trials.csv.

    A failing report must not lose a finished study: the results are on disk and the report can be written again
    later (``python -m analysis.report <experiment>``), so the error is printed and the small fallback written.
    """
    try:
        from analysis.report import write_report

        return [str(write_report(loc.experiment_path))]
    except Exception as e:  # noqa: BLE001 -- any failure of the report, see the docstring
        first = (str(e).strip().splitlines() or [""])[0]
        print(f"The report could not be written ({type(e).__name__}: {first}); writing trials.csv instead.",
              file=sys.stderr)
    df = result_grid.get_dataframe()
    return [write_text(loc, "trials.csv", df.to_csv(index=False))]


def _fs(path: str) -> tuple[pafs.FileSystem, str]:
    if "://" in path:
        return pafs.FileSystem.from_uri(path)
    return pafs.LocalFileSystem(), path


def trial_dirname(trial: Any) -> str:
    """``<variant>_seed<seed>_<trial_id>`` (a population: ``<variant>_seeds<first>-<last>_<trial_id>``): readable
    and unique, instead of a long list of resolved values."""
    return trial_folder_name(trial.config, trial.trial_id)


def trial_folder_name(cfg: Mapping[str, Any], trial_id: str) -> str:
    """The folder name ``trial_dirname`` gives the trial of config ``cfg`` and id ``trial_id``."""
    trial = StudyTrial.from_tune(cfg)
    label = re.sub(r"[^A-Za-z0-9_.=-]+", "-", str(trial.variant))
    seed = f"_seeds{trial.seeds[0]}-{trial.seeds[-1]}" if trial.population else f"_seed{trial.seeds[0]}"
    return f"{label}{seed}_{trial_id}"
