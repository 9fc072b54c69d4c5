"""``python -m studies.node_check [--require-gpu]``: a cluster node's own check, run by cluster.yaml's setup.

Why: a GPU worker whose torch cannot use its GPU would still join the cluster, take trials that ask for a GPU and
fail them one by one (``studies.trainable``), while the autoscaler keeps it because it is busy. Failing the node's
setup instead keeps it out of the cluster, and ``ray up`` / the autoscaler's log then show this one line:
torch's build, the CUDA version it needs, and what the node's driver offers (``gan_core.gpu``).

Every node prints what it has (one line, in the setup log); with ``--require-gpu`` (cluster.yaml's GPU workers) a
node whose torch cannot use a GPU exits 1 with the reason on stderr.
"""
from __future__ import annotations

import sys
from typing import Sequence

from gan_core.gpu import cuda_facts, cuda_problem
from gan_core.train import OneLineParser

PROG = "gan-study node check"


def main(argv: Sequence[str] | None = None) -> int:
    p = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("--require-gpu", action="store_true",
                   help="exit 1 unless torch can use a GPU on this node (cluster.yaml's GPU workers)")
    args = p.parse_args(argv)
    facts = cuda_facts()
    print(f"{PROG}: {facts.describe()}", flush=True)
    if args.require_gpu:
        problem = cuda_problem(facts)
        if problem is not None:
            sys.stderr.write(f"{PROG}: error: {problem}\n")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
