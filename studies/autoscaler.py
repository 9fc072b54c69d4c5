"""What the connected cluster's autoscaler can start, and what it is doing now, read from Ray's own records.

Why: a study on an autoscaling cluster has to reason about nodes that do not exist yet. The node types (their
resources and how many may start) decide the default GPU share and which requests can ever be met
(``studies.capacity``); the autoscaler's status (pending launches, failed launches and nodes, its last error) is
what the study prints while it waits for a node and when it gives up (``studies.preflight``, ``studies.watchdog``),
so that a quota of 0 GPU instances or a node whose setup failed is named instead of waited on in silence.

Where Ray keeps them:
- node types: the autoscaler v2 (and KubeRay) report the cluster config to the GCS
  (``ray._private.state.state.get_cluster_config()``); the v1 autoscaler (what ``ray up`` runs with Ray 2.60 by
  default on AWS) does not, but its monitor process on the head was started with ``--autoscaling-config=<file>``
  (``~/ray_bootstrap_config.yaml`` after ``ray up``, with each node type's CPUs and GPUs filled in from its
  instance type). The driver reads it where it runs on the head (``ray job submit``, ``ray submit``); elsewhere a
  task with no resources, pinned to the head node, reads it there;
- status: v1 writes a JSON summary into the GCS key-value store (what ``ray status`` prints), v2 answers
  ``ray.autoscaler.v2.sdk.get_cluster_status``.
Ray's records are read as they are: a field that is missing means "not said", never a failure of the study.
"""
from __future__ import annotations

import json
from typing import Any

import ray

from studies.capacity import NodeOffer

MONITOR_SCRIPTS = ("autoscaler/_private/monitor.py", "autoscaler/v2/monitor.py")


def autoscaler_node_types() -> list[NodeOffer]:
    """The worker node types the connected cluster's autoscaler can start (max > 0), or [] without autoscaler."""
    from ray._private.state import state

    try:
        config = state.get_cluster_config()
    except Exception:  # noqa: BLE001 -- an older GCS without the record: fall back to the monitor's file
        config = None
    if config is not None and config.node_group_configs:
        return [NodeOffer(f"node type {g.name}", float(g.resources["CPU"]) if "CPU" in g.resources else 0.0,
                          float(g.resources["GPU"]) if "GPU" in g.resources else 0.0, False)
                for g in config.node_group_configs if g.max_count != 0]
    gcs = ray.get_runtime_context().gcs_address
    seen, found = _monitor_config(gcs)  # the driver on the head (ray job submit, ray submit): read it here
    if not seen:
        head = [n["NodeID"] for n in ray.nodes() if n["Alive"] and "node:__internal_head__" in n["Resources"]]
        if not head:
            return []
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        reader = ray.remote(num_cpus=0)(_monitor_config).options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(head[0], soft=False))
        try:
            seen, found = ray.get(reader.remote(gcs), timeout=60)
        except Exception:  # noqa: BLE001 -- the head cannot run the reader: the study goes on without node types
            return []
    return node_types_of(found) if found is not None else []


def node_types_of(config: dict[str, Any]) -> list[NodeOffer]:
    """The worker node types of an autoscaling config (the ``ray up`` YAML, bootstrapped): those that may start."""
    if "available_node_types" not in config:
        return []
    top = config["max_workers"] if "max_workers" in config else None
    head = config["head_node_type"] if "head_node_type" in config else None
    out = []
    for name, node_type in config["available_node_types"].items():
        most = node_type["max_workers"] if "max_workers" in node_type else (0 if name == head else top)
        if most == 0 or top == 0:  # (the head's type starts workers only where it says so: the local provider's)
            continue
        resources = node_type["resources"] if "resources" in node_type else {}
        known = bool(resources)  # the local provider's types say nothing until their nodes start
        out.append(NodeOffer(f"node type {name}",
                             float(resources["CPU"]) if "CPU" in resources else (0.0 if known else None),
                             float(resources["GPU"]) if "GPU" in resources else (0.0 if known else None), False))
    return out


def _monitor_config(gcs_address: str) -> tuple[bool, dict[str, Any] | None]:
    """(whether this machine runs the monitor of the cluster at ``gcs_address``, its autoscaling config or None)."""
    import os

    import yaml

    from studies.raywatch import processes

    for _, args in processes():
        if not any(a.endswith(MONITOR_SCRIPTS) for a in args) or f"--gcs-address={gcs_address}" not in args:
            continue
        for a in args:
            if a.startswith("--autoscaling-config="):
                try:
                    with open(os.path.expanduser(a.split("=", 1)[1])) as f:
                        return True, yaml.safe_load(f)
                except (OSError, yaml.YAMLError):
                    return True, None
        return True, None  # a monitor without an autoscaler: no node types
    return False, None


def autoscaler_status() -> str:
    """What the autoscaler says now, in one short line ("" when it says nothing): launches pending and failed,
    nodes that failed, its last error."""
    from ray._private import ray_constants
    from ray.experimental.internal_kv import _internal_kv_get

    parts = []
    try:
        raw = _internal_kv_get(ray_constants.DEBUG_AUTOSCALING_STATUS)
        error = _internal_kv_get(ray_constants.DEBUG_AUTOSCALING_ERROR)
    except Exception:  # noqa: BLE001 -- no GCS key-value store reachable: nothing to say
        return ""
    if raw:
        report = _field(json.loads(raw), "autoscaler_report") or {}
        launches = _field(report, "pending_launches") or {}
        if launches:
            parts.append("launching " + ", ".join(f"{n} x {t}" for t, n in launches.items()))
        pending = _field(report, "pending_nodes") or []
        if pending:
            parts.append("setting up " + ", ".join(f"{p[1]} ({p[2]})" for p in pending if len(p) >= 3))
        failed = _field(report, "failed_nodes") or []
        if failed:
            parts.append("failed nodes: " + ", ".join(str(f[1]) for f in failed if len(f) >= 2))
        availability = _field(_field(report, "node_availability_summary") or {}, "node_availabilities") or {}
        for name, a in availability.items():
            if _field(a, "is_available") is False:
                info = _field(a, "unavailable_node_information") or {}
                parts.append(f"{name} unavailable: {_field(info, 'details') or _field(info, 'category') or '?'}")
    else:
        parts += _v2_status()
    if error:
        first = next((ln.strip() for ln in error.decode(errors="replace").splitlines()[1:] if ln.strip()), "")
        parts.append(f"autoscaler error: {first[:200]}")
    return "; ".join(parts)


def _v2_status() -> list[str]:
    try:
        from ray.autoscaler.v2.sdk import get_cluster_status

        status = get_cluster_status(ray.get_runtime_context().gcs_address)
    except Exception:  # noqa: BLE001 -- no v2 autoscaler
        return []
    parts = []
    if status.pending_launches:
        parts.append("launching " + ", ".join(f"{p.count} x {p.ray_node_type_name}" for p in status.pending_launches))
    if status.failed_launches:
        parts.append("failed launches: " + ", ".join(f"{f.ray_node_type_name} ({f.details})"
                                                     for f in status.failed_launches))
    return parts


def _field(record: Any, key: str) -> Any:
    """A field of one of Ray's status records, None where the record does not have it (Ray's, not a config)."""
    return record[key] if isinstance(record, dict) and key in record else None
