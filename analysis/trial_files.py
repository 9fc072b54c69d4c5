"""One trial folder's own files (params.json, result.json, error.txt, checkpoint folders), read as they are, and
what in them cannot be trusted.

Why a module of its own: a results directory outlives its study (copied, resumed after a full disk, edited by hand),
and one damaged trial must neither take the report down nor slip a wrong value into the statistics. So each file's
damage is decided here, once, and ``analysis.trial_rows`` gives a *damaged* trial its status: named with the reason,
left out of the statistics, the rest of the study reported as usual.

- ``params.json`` (the trial's config) is damaged when it is not JSON (cut short, empty), is not a JSON object,
  holds null for a key (no config key of a study may be null), or lacks a key that the trial's config in Ray's
  experiment state holds or that most of the study's trials hold (``params_damage``): a trial whose configuration
  is unknown cannot be counted under one.
- ``result.json`` is written one report a line, by appending, so a write cut short (a crash, a full disk) damages
  a line's end only. A last line that starts a report and breaks off is dropped and the complete reports before it
  are kept (said in a note; what they then miss makes the trial "incomplete", as any record that ends early,
  ``analysis.trial_rows``). A line cut short on which a resumed run appended its next report (Ray reopens the file to
  append, with no new line first) keeps that report. Any other unreadable line, and a line that is JSON but not an
  object, is damage: its neighbours are then no trustworthy record of the run either.
- ``error.txt``: its last line is Ray's exception. An empty one (Ray could not write it: a full disk) says only
  that something failed at some point; ``analysis.trial_rows`` ignores it for a trial that finished.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pyarrow import fs as pafs

from analysis.fsio import Location

__all__ = ["TRIAL_FILES", "EMPTY_ERROR", "TrialFiles", "read_trial_files", "study_keys", "params_damage"]

TRIAL_FILES = ("params.json", "result.json", "error.txt")  # a folder holding one of them is a trial's
EMPTY_ERROR = "failed (empty error.txt)"
_CHECKPOINT = re.compile(r"^checkpoint_(\d+)$")
_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
               type(None): "null"}


@dataclass
class TrialFiles:
    """What one trial folder holds, as read."""

    location: Location
    params: Any                  # params.json's JSON value; None when it is absent or not JSON
    params_error: str            # why params.json is not JSON ("" when it is, or is absent)
    rows: list[dict[str, Any]]   # the reports of result.json that can be trusted
    results_damage: str          # why result.json cannot be trusted ("" when it can)
    error: str | None            # error.txt's last line; "" when it is empty; None when there is none
    checkpoints: list[str]       # the checkpoint_NNNNNN folders, oldest first
    cut_short: bool = False      # result.json's last line was cut short (dropped)
    notes: list[str] = field(default_factory=list)  # what was mended in reading (a line cut short)

    @property
    def name(self) -> str:
        return self.location.name


def read_trial_files(tdir: Location) -> TrialFiles:
    children = tdir.children()
    names = {c.base_name for c in children if c.type == pafs.FileType.File}
    params, params_error = _read_params(tdir.join("params.json")) if "params.json" in names else (None, "")
    rows, damage, cut, notes = _read_results(tdir.join("result.json"), tdir.name) if "result.json" in names \
        else ([], "", False, [])
    error = _error_line(tdir.join("error.txt")) if "error.txt" in names else None
    numbered = sorted((int(m.group(1)), c.base_name) for c in children
                      if c.type == pafs.FileType.Directory and (m := _CHECKPOINT.match(c.base_name)))
    return TrialFiles(tdir, params, params_error, rows, damage, error, [n for _, n in numbered], cut, notes)


def study_keys(configs: list[dict[str, Any]]) -> set[str]:
    """The keys that more than half of the study's readable configs hold: the keys a trial's params.json must
    hold where Ray's experiment state cannot say (read off the trials, so that a directory written before a config
    key existed, whose trials all lack it, stays readable)."""
    counts = Counter(k for c in configs for k in c)
    return {k for k, n in counts.items() if 2 * n > len(configs)}


def params_damage(files: TrialFiles, expected: set[str]) -> str:
    """Why the trial's params.json cannot be trusted as its config ("" when it can); ``expected``: the keys it must
    hold (``study_keys`` and the keys of its config in Ray's experiment state)."""
    if files.params_error:
        return files.params_error
    params = files.params
    if params is None:
        return ""  # no params.json: the config comes from elsewhere (analysis.trial_rows)
    if not isinstance(params, dict):
        return f"params.json holds {_JSON_KINDS.get(type(params), 'a JSON value')}, not a JSON object"
    problems = []
    nulls = sorted(k for k, v in params.items() if v is None)
    if nulls:
        problems.append(f"params.json holds null for {', '.join(nulls)}")
    lacking = sorted(expected - set(params))
    if lacking:
        problems.append(f"params.json lacks {', '.join(lacking)}")
    return "; ".join(problems)


def _read_params(loc: Location) -> tuple[Any, str]:
    text = loc.read_text()
    if not text.strip():
        return None, "params.json is empty"
    try:
        return json.loads(text), ""
    except json.JSONDecodeError as e:
        return None, f"params.json is not valid JSON at line {e.lineno} column {e.colno} (cut short?)"


def _read_results(loc: Location, name: str) -> tuple[list[dict[str, Any]], str, bool, list[str]]:
    """(the reports to trust, why the file cannot be trusted, whether its last line was cut short, notes) of a
    result.json (module docstring)."""
    lines = [(number, line) for number, line in enumerate(loc.read_text().splitlines(), 1) if line.strip()]
    rows, notes = [], []
    for i, (number, line) in enumerate(lines):
        try:
            obj = json.loads(line)  # Ray writes NaN / Infinity literals, which json accepts
        except json.JSONDecodeError:
            obj = _continued(line)
            if obj is not None:
                notes.append(f"trial {name}: result.json line {number} was cut short and a resumed run appended "
                             f"its next report to it: the cut part dropped, that report kept")
            elif i == len(lines) - 1 and line.lstrip().startswith("{"):
                notes.append(f"trial {name}: the last line of its result.json is cut short (a write interrupted: a "
                             f"crash or a full disk): the {len(rows)} complete report(s) before it are kept")
                return rows, "", True, notes
            else:
                return [], f"result.json line {number} is not valid JSON", False, []
        if not isinstance(obj, dict):
            return [], f"result.json line {number} holds {_JSON_KINDS.get(type(obj), 'a JSON value')}, not a " \
                       f"JSON object (a report)", False, []
        rows.append(obj)
    return rows, "", False, notes


def _continued(line: str) -> dict[str, Any] | None:
    """The report that ends ``line`` after a report cut short (``{...`` then a whole ``{...}``), else None. A report
    is an object with Ray's ``training_iteration``: a nested object (a config, a member's metrics) that ends a line
    cut just after it is none."""
    if not line.lstrip().startswith("{"):
        return None
    end = len(line.rstrip())
    decoder = json.JSONDecoder()
    start = line.find("{", line.find("{") + 1)
    while start != -1:
        try:
            obj, stop = decoder.raw_decode(line, start)
        except json.JSONDecodeError:
            obj, stop = None, -1
        if stop == end and isinstance(obj, dict) and "training_iteration" in obj:
            return obj
        start = line.find("{", start + 1)
    return None


def _error_line(loc: Location) -> str:
    """The last non-empty line of Ray's error.txt: the exception, which is what a reader needs first."""
    lines = [ln.strip() for ln in loc.read_text().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""
