"""The experiment directory around Ray's files: what its newest experiment state says is unfinished."""
from __future__ import annotations

import json

from studies.experiment_dir import locate, unfinished_trials


def _state(path, name, statuses):
    path.mkdir(exist_ok=True)
    data = [[json.dumps({"trial_id": f"t{i}", "status": s}), json.dumps({})] for i, s in enumerate(statuses)]
    (path / name).write_text(json.dumps({"trial_data": data}))


def test_unfinished_trials_are_those_the_newest_state_would_resume(tmp_path):
    loc = locate(str(tmp_path), "s")
    assert unfinished_trials(loc) == 0  # no study yet
    _state(tmp_path / "s", "experiment_state-2026-01-01_00-00-00.json", ["PENDING"] * 3)
    _state(tmp_path / "s", "experiment_state-2026-01-02_00-00-00.json",
           ["TERMINATED", "ERROR", "PENDING", "RUNNING", "PAUSED"])
    assert unfinished_trials(loc) == 3  # the newer state: PENDING, RUNNING and PAUSED
    (tmp_path / "s" / "experiment_state-2026-01-03_00-00-00.json").write_text('{"trial_data": [["{')
    assert unfinished_trials(loc) == 0  # unreadable: --resume refuses it on its own (damaged_state)
