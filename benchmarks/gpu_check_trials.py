"""gpu_check's concurrent trials for its fractional section: k trials sharing one device, as spawned worker
processes or as Ray tasks asking for 1 / k of a GPU each (as a study's trials are placed), started together.
"""
from __future__ import annotations

import os
import queue
import shutil
import tempfile
import time

import _common

BENCHMARKS = os.path.dirname(os.path.abspath(__file__))  # where a Ray worker finds _common


class ProcessTrials:
    """k worker processes (spawned: CUDA cannot be forked), each running ``_common.train_together`` on command;
    started once, so a round pays no start-up. The trial alone runs in the first of them."""

    def __init__(self, k: int, timeout_s: float):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.timeout_s = timeout_s
        self.broken = False
        self.results = ctx.Queue()
        self.commands = [ctx.Queue() for _ in range(k)]
        self.procs = [ctx.Process(target=_common.trial_process, args=(q, self.results), daemon=True)
                      for q in self.commands]
        for p in self.procs:
            p.start()

    def run(self, parties: int, **command) -> list[dict]:
        barrier = tempfile.mkdtemp(prefix="gpu_check-start-")
        try:
            for q in self.commands[:parties]:
                q.put({**command, "barrier": barrier, "parties": parties, "timeout_s": self.timeout_s})
            out, deadline = [], time.time() + self.timeout_s
            while len(out) < parties:
                try:
                    status, got = self.results.get(timeout=1.0)
                except queue.Empty:
                    dead = [p for p in self.procs[:parties] if not p.is_alive()]
                    if dead or time.time() > deadline:
                        self.broken = True
                        raise RuntimeError(f"trial process {dead[0].pid} died (exit code {dead[0].exitcode})" if dead
                                           else f"the trial processes gave no answer within {self.timeout_s:.0f} s"
                                           ) from None
                    continue
                if status != "ok":
                    self.broken = True
                    raise RuntimeError(f"a trial process failed: {got}")
                out.append(got)
            return out
        finally:
            shutil.rmtree(barrier, ignore_errors=True)

    def close(self) -> None:
        """Ends the processes: asked to, or at once where a measurement failed (the others may wait at its
        start for a trial that will never come)."""
        for q in self.commands:
            q.put(None)
        for p in self.procs:
            if self.broken:
                p.terminate()
            p.join(timeout=20)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)


class RayTrials:
    """The trials as Ray tasks, as a study's trials are placed: 1 CPU and 1 / k of a GPU each (the trial alone:
    the whole GPU), on the Ray this process is connected to, or a local one started here."""

    def __init__(self, k: int, timeout_s: float):
        import ray

        self.started = not ray.is_initialized()
        _common.start_local_ray()
        self.timeout_s = timeout_s
        gpus = ray.cluster_resources().get("GPU", 0)
        self.gpus = {1: 1.0, k: 1.0 / k} if gpus >= 1 else {1: 0.0, k: 0.0}

    def run(self, parties: int, **command) -> list[dict]:
        import ray

        def trial(benchmarks: str, **kwargs):  # nested: Ray pickles it by value, any worker can run it
            import sys

            if benchmarks not in sys.path:
                sys.path.insert(0, benchmarks)
            import _common

            return _common.train_together(**kwargs)

        barrier = tempfile.mkdtemp(prefix="gpu_check-start-")
        task = ray.remote(num_cpus=1, num_gpus=self.gpus[parties])(trial)
        pending = [task.remote(BENCHMARKS, **command, barrier=barrier, parties=parties, timeout_s=self.timeout_s)
                   for _ in range(parties)]
        out, deadline = [], time.time() + self.timeout_s
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1, timeout=max(deadline - time.time(), 0))
                if not ready:
                    raise TimeoutError(f"{len(pending)} Ray trials gave no answer within {self.timeout_s:.0f} s")
                out.append(ray.get(ready[0]))  # raises the task's error
            return out
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            shutil.rmtree(barrier, ignore_errors=True)

    def close(self) -> None:
        import ray

        if self.started:
            ray.shutdown()
