"""The watchdog: a study whose trials wait for a node that never comes stops with what is missing; a trial that
hangs is restarted from its checkpoint (--trial-timeout) instead of stalling the study for ever (issue 27, finding 8;
issue 21, finding 4). The start of a study (the pre-flight probe) is tests/test_cluster_autoscaling.py."""
from __future__ import annotations

import os
import signal
from types import SimpleNamespace

from ray import tune

from studies import k_sweep, watchdog
from studies.runner import run_study


def _trial(status, trial_id="t1"):
    resources = SimpleNamespace(required_resources={"CPU": 1.0, "GPU": 0.25, "memory": 0.0})
    return SimpleNamespace(status=status, trial_id=trial_id, placement_group_factory=resources)


def test_trials_waiting_longer_than_the_start_timeout_stop_the_study(monkeypatch):
    """Nothing runs and trials wait: after --start-timeout the watchdog records why and asks Tune to stop the way
    Ctrl+C does (SIGUSR1: the state is saved, unfinished trials stay resumable); the runner ends with the line."""
    sent, clock = [], [1000.0]
    monkeypatch.setattr(watchdog.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(watchdog.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    monkeypatch.setattr(watchdog.signal, "getsignal", lambda sig: (lambda *a: None))
    import studies.autoscaler

    monkeypatch.setattr(studies.autoscaler, "autoscaler_status", lambda: "launching 1 x gpu_worker")
    watchdog.configure(start_timeout=60.0, trial_timeout=None)
    dog = watchdog.StudyWatchdog()
    waiting = [_trial("PENDING", "a"), _trial("PENDING", "b"), _trial("TERMINATED", "c")]
    dog.on_step_begin(0, waiting)  # the clock starts
    clock[0] += 60.0
    dog.on_step_begin(1, waiting)
    assert sent == [] and watchdog.STALLED == {}  # not longer than the limit yet
    dog.on_step_begin(2, [_trial("RUNNING", "a"), *waiting[1:]])  # a trial runs: the clock stops
    clock[0] += 100.0
    dog.on_step_begin(3, waiting)  # and starts again
    clock[0] += 61.0
    dog.on_step_begin(4, waiting)
    assert sent == [(os.getpid(), signal.SIGUSR1)]
    assert watchdog.STALLED == {"reason": "2 trial(s) waited 61 s (--start-timeout 60) for a node with 1 CPU + "
                                          "0.25 GPU and none came up; the autoscaler: launching 1 x gpu_worker"}
    dog.on_step_begin(5, waiting)
    assert len(sent) == 1  # said once
    watchdog.configure(start_timeout=None, trial_timeout=None)
    assert watchdog.STALLED == {}


def test_the_watchdog_keeps_nothing_of_a_run_in_tuner_pkl():
    """Ray pickles the callbacks into tuner.pkl; a resumed study gets a fresh watchdog with this run's settings."""
    import pickle

    dog = watchdog.StudyWatchdog()
    dog.last_seen["x"] = 5.0
    again = pickle.loads(pickle.dumps(dog))
    assert (again.last_seen, again.stalled_since, again.killed) == ({}, None, set())


class StopAtFirstCheckpoint(tune.Callback):
    """SIGSTOP the trial's worker (a hang: alive, silent) once Tune holds its first checkpoint."""

    def __init__(self):
        self.stopped = None

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info):
        if self.stopped is None:
            self.stopped = (trial.last_result["pid"], trial.last_result["g_steps"])
            os.kill(self.stopped[0], signal.SIGSTOP)


def test_a_hung_trial_is_restarted_from_its_checkpoint(ray_cluster, tmp_path, experiment_reader, capsys):
    argv = ["--smoke-test", "--k", "1", "--g-loss", "non_saturating", "--steps", "200", "--eval-every", "50",
            "--gpus-per-trial", "0", "--trial-timeout", "20", "--max-failures", "1", "--storage-path", str(tmp_path),
            "--name", "hung"]
    args = k_sweep.build_parser().parse_args(argv)
    stopper = StopAtFirstCheckpoint()
    run = run_study(k_sweep.build_spec(args), args, callbacks=[stopper], command=argv)
    assert run.exit_code == 0
    (trial,) = experiment_reader(run.location.experiment_path)
    assert (trial.status, trial.num_failures) == ("TERMINATED", 1)
    # reported once at the first checkpoint, hung, was killed, and continued from that checkpoint (not from step 0)
    assert stopper.stopped[1] == 50
    assert trial.reported("g_steps") == [50, 100, 150, 200]
    assert f"Trial {trial.trial_id} reported nothing for " in capsys.readouterr().err
