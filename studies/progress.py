"""The study's progress in one line, instead of Ray's tables: trials done, running, pending and failed of the
study's total, the time so far, and when it will end.

Why: Ray's own output for a smoke study is hundreds of table rows (a config table per trial start, a result table
per trial end, a status table every 30 s), and none of it says how much of the study is done or when it will
finish, which is what a researcher waiting on a study wants to know. ``--ray-output`` brings Ray's tables back.

The estimate: each trial's cost is the study's cost model (``StudySpec.cost``: gan_core.cost FLOPs per trial, the
members of a population trial added up; 1 a trial where a study has none), and the share of it done is its
generator steps so far over its steps (finished and failed trials: all of it). The work done since this driver
started, over the time since, is the rate; the work left over that rate is the time left. So the estimate waits
for the first reports, and a trial a scheduler stops early takes its unspent cost with it.
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from typing import Any, Callable, Iterator, Mapping, Sequence

from ray import tune

from studies.trial import StudyTrial

__all__ = ["StudyProgress", "TrialCost", "duration", "progress_line", "quiet_ray"]

PRINT_EVERY_S = 30.0  # a line at least this often while the counts stay the same
START_GRACE_S = 5.0  # the line of a trial that ended waits at most this long for the next trial to start
DONE, FAILED, RUNNING, PENDING = "TERMINATED", "ERROR", "RUNNING", "PENDING"


def duration(seconds: float) -> str:
    """3 s, 4 min 05 s, 2 h 07 min."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def progress_line(study: str, total: int, counts: Mapping[str, int], elapsed_s: float, left_s: float | None) -> str:
    """The line itself, from the trials' counts by Ray status; ``left_s`` None: not yet estimated."""
    done, failed, running = counts.get(DONE, 0), counts.get(FAILED, 0), counts.get(RUNNING, 0)
    pending = max(total - done - failed - running, 0)
    failed_part = f", {failed} failed" if failed else ""
    left = "" if left_s is None else f", about {duration(left_s)} left"
    return (f"{study}: {done} of {total} trials done{failed_part}, {running} running, {pending} pending "
            f"({duration(elapsed_s)}{left})")


class TrialCost:
    """A trial's estimated cost from its config: its variant's cost per seed times its seeds (a population trial
    holds several). Picklable: Ray keeps the experiment's callbacks in its saved state."""

    def __init__(self, per_variant: Mapping[str, float]):
        self.per_variant = dict(per_variant)

    def __call__(self, config: Mapping[str, Any]) -> float:
        trial = StudyTrial.from_tune(config)
        return self.per_variant[trial.variant] * len(trial.seeds)


class StudyProgress(tune.Callback):
    """Prints ``progress_line`` first, whenever a trial ends or fails, and every ``PRINT_EVERY_S`` between; a last
    line when the experiment ends, if the counts changed since. ``cost(trial_config)``: a trial's estimated cost (``StudySpec.cost`` terms)."""

    def __init__(self, study: str, total: int, cost: Callable[[Mapping[str, Any]], float],
                 clock: Callable[[], float] = time.monotonic, out: Callable[[str], None] | None = None):
        self.study, self.total, self.cost, self.clock = study, total, cost, clock
        self.out = out
        self._start: float | None = None
        self._done_at_start: float | None = None
        self._last_counts: dict[str, int] | None = None
        self._last_print = 0.0
        self._ended_at: float | None = None  # when a trial ended that the last line did not count
        self._costs: dict[str, float] = {}  # trial id -> its cost

    def _counts(self, trials: Sequence[Any]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for trial in trials:
            counts[trial.status] = counts.get(trial.status, 0) + 1
        return counts

    def _work(self, trials: Sequence[Any]) -> tuple[float, float]:
        """(cost done, cost of the whole study): trials not yet created cost what the known ones do on average."""
        done = planned = 0.0
        for trial in trials:
            if trial.trial_id not in self._costs:  # a trial's config does not change: its cost is read once
                self._costs[trial.trial_id] = self.cost(trial.config)
            cost = self._costs[trial.trial_id]
            planned += cost
            if trial.status in (DONE, FAILED):
                done += cost
            elif "g_steps" in trial.last_result:
                done += cost * min(trial.last_result["g_steps"] / trial.config["steps"], 1.0)
        if trials and len(trials) < self.total:
            planned += planned / len(trials) * (self.total - len(trials))
        return done, planned

    def _print(self, line: str) -> None:
        (self.out or (lambda text: print(text, flush=True)))(line)

    def on_step_end(self, iteration: int, trials: list, **info) -> None:
        now = self.clock()
        done, planned = self._work(trials)
        if self._start is None:
            self._start, self._done_at_start = now, done
        counts = self._counts(trials)
        ended = {k: counts.get(k, 0) for k in (DONE, FAILED)}  # a line when a trial ends, not when one starts
        if self._last_counts is not None and not self._due(counts, ended, len(trials), now):
            return
        rate = (done - self._done_at_start) / (now - self._start) if now > self._start else 0.0
        active = len(trials) - ended[DONE] - ended[FAILED] + max(self.total - len(trials), 0)
        left = (planned - done) / rate if rate > 0 and active else None
        self._print(progress_line(self.study, max(self.total, len(trials)), counts, now - self._start, left))
        self._last_counts, self._last_print, self._ended_at = counts, now, None

    def _due(self, counts: Mapping[str, int], ended: Mapping[str, int], created: int, now: float) -> bool:
        """Whether to print now. A trial that ended is said once the trial that takes its place has started (Tune
        starts it a moment later, on the worker just freed: a line at the end itself would show one trial fewer
        running than the study runs), once no trial waits, or after ``START_GRACE_S``; otherwise every
        ``PRINT_EVERY_S``."""
        last = self._last_counts or {}
        if self._ended_at is None and any(ended[k] != last.get(k, 0) for k in ended):
            self._ended_at = now
        if self._ended_at is not None:
            waiting = counts.get(PENDING, 0) + max(self.total - created, 0)
            return (counts.get(RUNNING, 0) >= last.get(RUNNING, 0) or not waiting
                    or now - self._ended_at >= START_GRACE_S)
        return now - self._last_print >= PRINT_EVERY_S

    def on_experiment_end(self, trials: list, **info) -> None:
        start = self._start if self._start is not None else self.clock()
        counts = self._counts(trials)
        if counts == self._last_counts:
            return  # the last line said it
        self._last_counts = counts
        self._print(progress_line(self.study, max(self.total, len(trials)), counts, self.clock() - start, None))


@contextlib.contextmanager
def quiet_ray(ray_output: bool) -> Iterator[None]:
    """While a study runs: none of Ray's own progress output unless ``ray_output``. Ray's new output engine prints
    its experiment box and a TensorBoard command (pointing at a temporary partial copy) at every verbosity, so
    its legacy engine is chosen (RAY_AIR_NEW_OUTPUT=0), which at verbosity 0 prints nothing, and Tune's INFO
    lines are held back; both are as they were afterwards."""
    if ray_output:
        yield
        return
    tune_log = logging.getLogger("ray.tune")
    saved_env, saved_level = os.environ.get("RAY_AIR_NEW_OUTPUT"), tune_log.level
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    tune_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        tune_log.setLevel(saved_level)
        if saved_env is None:
            del os.environ["RAY_AIR_NEW_OUTPUT"]
        else:
            os.environ["RAY_AIR_NEW_OUTPUT"] = saved_env
