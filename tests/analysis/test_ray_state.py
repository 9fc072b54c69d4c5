"""Ray's experiment state read as JSON: trial ids, statuses, folders and the last report Ray received."""
from __future__ import annotations

import json

from analysis.fsio import resolve
from analysis.ray_state import has_state, newest_state, read_ray_trials, trial_id_from_name


def _state(tmp_path, trial_data, name="experiment_state-2026-12-02_05-00-00.json"):
    (tmp_path / name).write_text(json.dumps({"trial_data": trial_data}))
    loc = resolve(str(tmp_path))
    return loc, loc.children()


def test_the_newest_state_gives_each_trials_status_folder_config_and_last_iteration(tmp_path):
    trial = {"trial_id": "a1b2c_00000", "status": "TERMINATED", "relative_logdir": "gan_seed0_a1b2c_00000",
             "config": {"seed": 0}}
    _state(tmp_path, [[json.dumps({**trial, "status": "RUNNING"}), json.dumps({})]],
           "experiment_state-2026-12-01_00-00-00.json")
    loc, entries = _state(tmp_path, [[json.dumps(trial), json.dumps({"last_result": {"training_iteration": 4}})]])
    notes = []
    got = read_ray_trials(loc, entries, notes)
    assert [(t.trial_id, t.status, t.folder, t.config, t.last_iteration) for t in got] == \
        [("a1b2c_00000", "TERMINATED", "gan_seed0_a1b2c_00000", {"seed": 0}, 4)]
    assert notes == [] and has_state(loc)


def test_an_unreadable_state_is_a_note_not_an_error(tmp_path):
    loc, entries = _state(tmp_path, [["not json"]])
    notes = []
    assert read_ray_trials(loc, entries, notes) == []
    assert notes == ["experiment_state-2026-12-02_05-00-00.json could not be read: Ray's trial status is unknown"]


def test_trial_ids_are_read_from_rays_folder_names():
    assert trial_id_from_name("train_gan_a1b2c_00003_3_seed=1_2026-12-02") == "a1b2c_00003"
    assert trial_id_from_name("plain") == "plain"


def test_a_trial_ray_has_not_yet_scheduled_has_no_folder(tmp_path):
    """Ray names a trial's folder (relative_logdir) when it first schedules it: before, the state holds null."""
    trial = {"trial_id": "a1b2c_00007", "status": "PENDING", "relative_logdir": None, "config": {"seed": 7}}
    _state(tmp_path, [[json.dumps(trial), json.dumps({})]], "experiment_state-2026-12-01_00-00-00.json")
    loc, entries = _state(tmp_path, [[json.dumps(trial), json.dumps({})]])
    got = read_ray_trials(loc, entries, [])
    assert [(t.status, t.folder, t.last_iteration) for t in got] == [("PENDING", "", 0)]
    assert newest_state(entries) == "experiment_state-2026-12-02_05-00-00.json"
    assert newest_state([]) is None
