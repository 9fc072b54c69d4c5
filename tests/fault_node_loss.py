"""Helper of tests/test_faults.py (not a test module): a study that loses a worker node mid-run.

Run as its own process, so that it can own a second Ray cluster while the test session's cluster stays untouched:

    python tests/fault_node_loss.py STORAGE_PATH

Builds a ``ray.cluster_utils.Cluster`` with a head node of 1 CPU and a worker node of 2 CPUs, runs a k_sweep study of
3 ring8 trials (1 CPU each, so two of them run on the worker node) through ``studies.runner.run_study``, and removes
the worker node with ``cluster.remove_node`` as soon as two trials running there have each registered a checkpoint.
Prints one JSON object on its last line: the study's exit code, the node ids, what was running on the removed node,
and every trial as Ray's ExperimentAnalysis and the project's analysis read it back from disk.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

import ray  # noqa: E402
from ray import tune  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from studies import k_sweep  # noqa: E402
from studies.runner import run_study  # noqa: E402

STEPS, EVAL_EVERY, SEEDS = 800, 100, 3
TRIALS_TO_LOSE = 2


CLUSTER: dict = {}  # "cluster", "worker": held here, not by the callback, which Ray pickles into the experiment
REMOVED: dict[str, int] = {}  # trial id -> g_steps of its latest checkpoint on the node when it was removed


class RemoveNodeAtCheckpoints(tune.Callback):
    """Remove the worker node once ``TRIALS_TO_LOSE`` trials that report from it have each registered a checkpoint."""

    def __init__(self):
        self.seen: dict[str, int] = {}  # trial id -> g_steps of its latest registered checkpoint on the node

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info):
        worker = CLUSTER["worker"]
        if REMOVED or trial.last_result.get("node_id") != worker.node_id:
            return
        self.seen[trial.trial_id] = trial.last_result["g_steps"]
        if len(self.seen) == TRIALS_TO_LOSE:
            REMOVED.update(self.seen)
            CLUSTER["cluster"].remove_node(worker)


def read_back(path: str) -> dict:
    from analysis.load import read_study
    from ray.tune import ExperimentAnalysis

    trials = []
    for t in sorted(ExperimentAnalysis(path).trials, key=lambda t: t.trial_id):
        lines = (Path(t.path) / "result.json").read_text().splitlines()
        rows = [json.loads(line) for line in lines if line]
        trials.append({
            "trial_id": t.trial_id, "status": t.status, "num_failures": t.num_failures,
            "rows": [{k: r.get(k) for k in ("training_iteration", "iterations_since_restore", "g_steps", "node_id",
                                             "checkpoint_dir_name", "status")} for r in rows],
        })
    study = read_study(path)
    analysed = {r["trial_id"]: {"status": r["status"], "g_steps": r["g_steps"], "n_evals": r["n_evals"]}
                for _, r in study.trials.iterrows()}
    return {"trials": trials, "analysis": analysed}


def main(storage: str) -> dict:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        worker = cluster.add_node(num_cpus=2)
        ray.init(address=cluster.address, log_to_driver=False)
        cluster.wait_for_nodes()
        head_id, worker_id = cluster.head_node.node_id, worker.node_id
        CLUSTER.update(cluster=cluster, worker=worker)
        remover = RemoveNodeAtCheckpoints()
        argv = ["--k", "1", "--g-loss", "non_saturating", "--seeds", str(SEEDS), "--steps", str(STEPS),
                "--eval-every", str(EVAL_EVERY), "--gpus-per-trial", "0", "--max-failures", "2",
                "--storage-path", storage, "--name", "node_loss"]
        args = k_sweep.build_parser().parse_args(argv)
        run = run_study(k_sweep.build_spec(args), args, callbacks=[remover], command=argv)
        out = {"exit_code": run.exit_code, "head_node_id": head_id, "worker_node_id": worker_id,
               "removed": dict(REMOVED), "alive_nodes": sorted(n["NodeID"] for n in ray.nodes() if n["Alive"]),
               "report": [str(p) for p in run.report_paths]}
    finally:
        ray.shutdown()
        cluster.shutdown()
    out.update(read_back(run.location.experiment_path))
    return out


if __name__ == "__main__":
    # run through the importable module, so that Ray pickles the callback by reference, not by value together
    # with the cluster it removes nodes from
    from tests.fault_node_loss import main as run

    print(json.dumps(run(sys.argv[1])))
