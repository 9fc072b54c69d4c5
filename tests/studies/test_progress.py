"""The study's one-line progress: counts of the study's total, elapsed time, and the time left from the cost model."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from studies.progress import PRINT_EVERY_S, START_GRACE_S, StudyProgress, TrialCost, duration, progress_line


def _trial(status, variant="a", g_steps=None, steps=100, members=None):
    config = {"variant": variant, "steps": steps, "seed": members[0] if members else 0,
              **({"members": members} if members else {})}
    return SimpleNamespace(status=status, config=config, last_result={} if g_steps is None else {"g_steps": g_steps},
                           trial_id=f"{variant}-{members}")  # (the trials of a test share an id where they cost the same)


@pytest.mark.parametrize("seconds, text", [(3.4, "3 s"), (59.6, "1 min 00 s"), (245, "4 min 05 s"),
                                           (7620, "2 h 07 min")])
def test_durations_read_as_people_write_them(seconds, text):
    assert duration(seconds) == text


def test_the_line_counts_done_failed_running_and_pending_of_the_total():
    counts = {"TERMINATED": 3, "ERROR": 1, "RUNNING": 2, "PENDING": 1}
    assert progress_line("k_sweep", 24, counts, 65, 540) == \
        "k_sweep: 3 of 24 trials done, 1 failed, 2 running, 18 pending (1 min 05 s, about 9 min 00 s left)"
    assert progress_line("k_sweep", 24, {"PENDING": 24}, 2, None) == \
        "k_sweep: 0 of 24 trials done, 0 running, 24 pending (2 s)"


def test_a_trials_cost_is_its_variants_per_seed_times_its_seeds():
    cost = TrialCost({"a": 2.0, "b": 5.0})
    assert cost({"variant": "b", "seed": 0}) == 5.0
    assert cost({"variant": "a", "seed": 3, "members": [3, 4, 5]}) == 6.0


def test_the_time_left_is_the_work_left_at_the_rate_of_the_work_done_since_the_start():
    """Two variants, b costing 3 times a; at t = 0 nothing is done; at t = 60 s: one a trial finished (cost 1), one
    b trial half way (1.5 of 3) and one b trial pending: 2.5 of 7 done in 60 s -> 4.5 left at 2.5 / 60 = 108 s."""
    clock, printed = [0.0], []
    progress = StudyProgress("s", 3, TrialCost({"a": 1.0, "b": 3.0}), clock=lambda: clock[0], out=printed.append)
    trials = [_trial("RUNNING", "a", 0), _trial("PENDING", "b"), _trial("PENDING", "b")]
    progress.on_step_end(1, trials)
    assert printed == ["s: 0 of 3 trials done, 1 running, 2 pending (0 s)"]
    clock[0] = 60.0
    trials = [_trial("TERMINATED", "a", 100), _trial("RUNNING", "b", 50), _trial("PENDING", "b")]
    progress.on_step_end(2, trials)
    assert printed[-1] == "s: 1 of 3 trials done, 1 running, 1 pending (1 min 00 s, about 1 min 48 s left)"
    clock[0] = 61.0
    progress.on_step_end(3, trials)  # the same counts within PRINT_EVERY_S: nothing new to say
    progress.on_step_end(3, [*trials[:2], _trial("RUNNING", "b", 0)])  # nor when a trial only starts
    assert len(printed) == 2
    clock[0] = 60.0 + PRINT_EVERY_S
    progress.on_step_end(4, trials)  # ... but at least every PRINT_EVERY_S
    assert len(printed) == 3
    progress.on_experiment_end([_trial("TERMINATED", "a", 100), _trial("TERMINATED", "b", 100),
                                _trial("ERROR", "b", 10)])
    assert printed[-1] == "s: 2 of 3 trials done, 1 failed, 0 running, 0 pending (1 min 30 s)"
    progress.on_experiment_end([_trial("TERMINATED", "a", 100), _trial("TERMINATED", "b", 100),
                                _trial("ERROR", "b", 10)])
    assert len(printed) == 4  # said once


def test_no_time_left_is_estimated_once_nothing_is_left():
    clock, printed = [0.0], []
    progress = StudyProgress("s", 1, TrialCost({"a": 1.0}), clock=lambda: clock[0], out=printed.append)
    progress.on_step_end(1, [_trial("RUNNING", "a", 0)])
    clock[0] = 5.0
    progress.on_step_end(2, [_trial("TERMINATED", "a", 100)])
    assert printed[-1] == "s: 1 of 1 trials done, 0 running, 0 pending (5 s)"


def test_trials_a_searcher_has_not_created_yet_cost_the_average_of_the_known():
    clock, printed = [0.0], []
    progress = StudyProgress("lr_search", 4, TrialCost({"tpe": 2.0}), clock=lambda: clock[0], out=printed.append)
    progress.on_step_end(1, [_trial("RUNNING", "tpe", 0)])
    clock[0] = 10.0
    progress.on_step_end(2, [_trial("TERMINATED", "tpe", 100), _trial("RUNNING", "tpe", 0)])
    # 2 of 8 done in 10 s: 6 left at 0.2 a second
    assert printed[-1] == "lr_search: 1 of 4 trials done, 1 running, 2 pending (10 s, about 30 s left)"


def test_a_trial_that_ends_is_said_once_the_next_one_has_started():
    """Two trials side by side, two waiting: when one ends, Tune starts the next on the freed worker a moment later.
    The line waits for it (it would say "1 running" of a study that runs 2), but not longer than START_GRACE_S."""
    clock, printed = [0.0], []
    progress = StudyProgress("s", 4, TrialCost({"a": 1.0}), clock=lambda: clock[0], out=printed.append)
    running = [_trial("RUNNING", "a", 0), _trial("RUNNING", "a", 0), _trial("PENDING"), _trial("PENDING")]
    progress.on_step_end(1, running)
    assert printed == ["s: 0 of 4 trials done, 2 running, 2 pending (0 s)"]
    clock[0] = 10.0
    progress.on_step_end(2, [_trial("TERMINATED", "a", 100), running[1], _trial("PENDING"), _trial("PENDING")])
    assert len(printed) == 1  # the freed worker has not taken the next trial yet
    clock[0] = 10.5
    progress.on_step_end(3, [_trial("TERMINATED", "a", 100), running[1], _trial("RUNNING", "a", 0), _trial("PENDING")])
    assert printed[-1] == "s: 1 of 4 trials done, 2 running, 1 pending (10 s, about 32 s left)"
    clock[0] = 20.0  # the next ends, and no trial starts (say, no node for it): said after START_GRACE_S
    stuck = [_trial("TERMINATED", "a", 100), _trial("TERMINATED", "a", 100), _trial("RUNNING", "a", 0),
             _trial("PENDING")]
    progress.on_step_end(4, stuck)
    clock[0] = 20.0 + START_GRACE_S - 0.1
    progress.on_step_end(5, stuck)
    assert len(printed) == 2
    clock[0] = 20.0 + START_GRACE_S
    progress.on_step_end(6, stuck)
    assert printed[-1] == "s: 2 of 4 trials done, 1 running, 1 pending (25 s, about 25 s left)"
    clock[0] = 30.0  # the last two end with nothing left to wait for: said at once
    progress.on_step_end(7, [_trial("TERMINATED", "a", 100)] * 3 + [_trial("RUNNING", "a", 50)])
    assert printed[-1] == "s: 3 of 4 trials done, 1 running, 0 pending (30 s, about 4 s left)"
