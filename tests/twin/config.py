"""The twin of cluster.yaml: the same cluster run by Ray's ``local`` provider on this machine, generated from
cluster.yaml so that the two cannot drift.

Every command a node runs is cluster.yaml's, verbatim (file_mounts, rsync settings, setup and start commands), except
the rows of ``substitutions``: each is checked to match exactly one command of its section of cluster.yaml, so an
edit of cluster.yaml either flows into the twin unchanged or stops the generator with the row that no longer fits.
What is not a node's command (where the nodes come from and how to reach them) is the twin's own: the provider, the
ssh user and key, one worker, the cluster's name. A key of cluster.yaml that the generator does not know stops it
too (``TwinDrift``): a new section must be mirrored or deliberately left out here, never dropped silently.

A pure function of cluster.yaml's dict and a ``TwinSpec`` (paths and addresses of the twin): no namespaces, no files.
"""
from __future__ import annotations

import copy
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

CLUSTER_YAML = Path(__file__).resolve().parents[2] / "cluster.yaml"

# Taken from cluster.yaml as they are (the command lists after ``substitutions``).
VERBATIM_KEYS = (
    "file_mounts", "cluster_synced_files", "file_mounts_sync_continuously", "rsync_exclude", "rsync_filter",
    "initialization_commands", "setup_commands", "head_setup_commands", "worker_setup_commands",
    "head_start_ray_commands", "worker_start_ray_commands", "upscaling_speed", "idle_timeout_minutes",
)
# The twin's own: where its nodes come from (AWS there, two sshd on loopback addresses here) and how many.
REPLACED_KEYS = ("cluster_name", "max_workers", "provider", "auth", "available_node_types", "head_node_type")
# What a node type of cluster.yaml may hold; the twin mirrors resources (see ``substitutions``) and ignores the rest,
# which describes AWS instances. Anything else (per-type setup commands, docker, labels) stops the generator.
NODE_TYPE_KEYS = frozenset({"resources", "node_config", "min_workers", "max_workers"})


class TwinDrift(ValueError):
    """cluster.yaml changed in a way the twin's generator does not know how to mirror."""


@dataclass(frozen=True)
class TwinSpec:
    """Where the twin's pieces are: the prepared environment (a virtualenv directory, the same path on every node),
    the ssh login, the nodes' addresses, and the worker's ports (the head keeps cluster.yaml's; both nodes share
    one loopback interface, so the worker's must differ)."""

    env: str
    ssh_user: str
    ssh_private_key: str
    head_ip: str = "127.0.0.1"
    worker_ip: str = "127.0.0.2"
    worker_object_manager_port: int = 8077
    worker_dashboard_agent_port: int = 52366
    worker_ports: tuple[int, int] = (20000, 29999)  # the head's workers take Ray's default 10002..19999


class Substitution(NamedTuple):
    section: str  # a command list of cluster.yaml
    old: str      # text found in exactly one command of that section
    new: str      # what the twin runs instead (every occurrence in that command)
    why: str


def ray_env_value(value) -> str:
    """A value exported the way Ray's updater exports RAY_OVERRIDE_RESOURCES on AWS (compact JSON, shell-quoted)."""
    return shlex.quote(json.dumps(value, separators=(",", ":")))


def substitutions(cluster: dict, spec: TwinSpec) -> list[Substitution]:
    """The only differences between a node's commands in cluster.yaml and in the twin."""
    head_resources = cluster["available_node_types"][cluster["head_node_type"]]["resources"]
    lo, hi = spec.worker_ports
    return [
        Substitution("setup_commands", "/opt/pytorch/bin/activate", f"{spec.env}/bin/activate",
                     "the image's PyTorch environment: the twin's prepared one (the machine's packages, pip offline)"),
        Substitution("worker_setup_commands", "python -m studies.node_check --require-gpu",
                     "python -m studies.node_check",
                     "the twin has no GPU: the node check still runs, without requiring one"),
        Substitution("head_start_ray_commands", "ray start --head",
                     f"RAY_OVERRIDE_RESOURCES={ray_env_value(head_resources)} ray start --head",
                     "the head node type's resources, applied as Ray's AWS updater applies them (the local provider "
                     "refuses available_node_types)"),
        Substitution("worker_start_ray_commands", "ray start --address=",
                     f"ray start --node-ip-address={spec.worker_ip} "
                     f"--dashboard-agent-listen-port={spec.worker_dashboard_agent_port} "
                     f"--min-worker-port={lo} --max-worker-port={hi} --address=",
                     "the worker's own address (else Ray picks the head's) and ports of its own on the shared "
                     "loopback"),
        Substitution("worker_start_ray_commands", "--object-manager-port=8076",
                     f"--object-manager-port={spec.worker_object_manager_port}",
                     "the head's object manager holds 8076 on the shared loopback"),
    ]


def _check_node_types(cluster: dict) -> None:
    types = cluster["available_node_types"]
    for name, node_type in types.items():
        unknown = set(node_type) - NODE_TYPE_KEYS
        if unknown:
            raise TwinDrift(f"available_node_types.{name}: {sorted(unknown)}: the twin does not mirror these")
    workers = [name for name in types if name != cluster["head_node_type"]]
    if len(workers) != 1:
        raise TwinDrift(f"worker node types {workers}: the twin has exactly one worker type")
    if types[workers[0]]["resources"]:
        raise TwinDrift(f"available_node_types.{workers[0]}.resources {types[workers[0]]['resources']}: the twin "
                        "mirrors the head's resources only (its worker's are detected, as on AWS with {})")


def apply(cluster: dict, table: list[Substitution]) -> dict[str, list[str]]:
    """The command sections of cluster.yaml with ``table`` applied; TwinDrift where a row does not match exactly
    one command of cluster.yaml."""
    out = {key: list(cluster[key]) for key in {row.section for row in table}}
    for row in table:
        hits = [i for i, command in enumerate(cluster[row.section]) if row.old in command]
        if len(hits) != 1:
            raise TwinDrift(f"{row.section}: {row.old!r} is in {len(hits)} commands of cluster.yaml; the twin's "
                            f"substitution expects exactly one ({row.why}): update tests/twin/config.py")
        out[row.section][hits[0]] = out[row.section][hits[0]].replace(row.old, row.new)
    return out


def twin_config(cluster: dict, spec: TwinSpec) -> dict:
    """cluster.yaml's dict -> the twin's (a dict for ``ray up``)."""
    unknown = set(cluster) - set(VERBATIM_KEYS) - set(REPLACED_KEYS)
    if unknown:
        raise TwinDrift(f"cluster.yaml keys {sorted(unknown)}: the twin's generator neither mirrors nor replaces "
                        "them: add them to VERBATIM_KEYS or REPLACED_KEYS in tests/twin/config.py")
    _check_node_types(cluster)
    twin = {key: copy.deepcopy(cluster[key]) for key in VERBATIM_KEYS if key in cluster}
    twin.update(apply(cluster, substitutions(cluster, spec)))
    twin.update({
        "cluster_name": f"{cluster['cluster_name']}-twin",
        # one worker, up from the start (on AWS they start from zero when trials wait)
        "min_workers": 1,
        "max_workers": 1,
        "provider": {"type": "local", "head_ip": spec.head_ip, "worker_ips": [spec.worker_ip]},
        "auth": {"ssh_user": spec.ssh_user, "ssh_private_key": spec.ssh_private_key},
    })
    return twin


def load_cluster_yaml(path: Path = CLUSTER_YAML) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())
