"""One trial folder's files as read: which lines of result.json are trusted, what damages params.json, error.txt."""
import json

from analysis.fsio import resolve
from analysis.trial_files import read_trial_files, study_keys

REPORT = {"g_steps": 50, "status": "running", "fd": 1.5, "training_iteration": 1, "config": {"seed": 0}}


def _read(tmp_path, **files):
    for name, text in files.items():
        (tmp_path / name.replace("_", ".")).write_text(text)
    return read_trial_files(resolve(str(tmp_path)))


def test_a_cut_line_that_a_resumed_run_continued_keeps_the_whole_report(tmp_path):
    second = {**REPORT, "g_steps": 100, "training_iteration": 2}
    cut = json.dumps(second)[:30]  # cut inside the nested config's braces would not end the line either
    got = _read(tmp_path, result_json="\n".join([json.dumps(REPORT), cut + json.dumps(second)]) + "\n")
    assert (got.rows, got.results_damage, got.cut_short) == ([REPORT, second], "", False)
    # a line cut just after a nested object is no report: the cut last line is dropped
    nested = '{"g_steps": 100, "config": {"seed": 0}'
    got = _read(tmp_path, result_json=json.dumps(REPORT) + "\n" + nested)
    assert (got.rows, got.results_damage, got.cut_short) == ([REPORT], "", True)


def test_lines_that_are_no_report_damage_the_file(tmp_path):
    got = _read(tmp_path, result_json=json.dumps(REPORT) + '\n"a string"\n')
    assert (got.rows, got.results_damage) == ([], "result.json line 2 holds a string, not a JSON object (a report)")
    got = _read(tmp_path, result_json="junk at the end\n")
    assert (got.rows, got.results_damage) == ([], "result.json line 1 is not valid JSON")


def test_error_txt_and_checkpoints(tmp_path):
    assert _read(tmp_path).error is None
    (tmp_path / "checkpoint_000010").mkdir()
    (tmp_path / "checkpoint_000002").mkdir()
    got = _read(tmp_path, error_txt="")
    assert (got.error, got.checkpoints) == ("", ["checkpoint_000002", "checkpoint_000010"])
    assert _read(tmp_path, error_txt="Failure # 1\nRuntimeError: boom\n\n").error == "RuntimeError: boom"


def test_the_keys_a_params_json_must_hold_are_those_most_trials_hold():
    assert study_keys([{"k": 1, "seed": 0}, {"k": 2, "seed": 1}, {"seed": 2}]) == {"k", "seed"}
    assert study_keys([{"k": 1, "new": 0}, {"k": 2}]) == {"k"}  # half is not most: an older key set stays readable
    assert study_keys([]) == set()
