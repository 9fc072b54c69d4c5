"""The twin's generator (tests/twin/config.py), cheaply: no namespaces, no nodes. The twin runs cluster.yaml's
commands verbatim except its substitution table, each row of which matches exactly one command of cluster.yaml; a
cluster.yaml that drifts from the table stops the generator."""
from __future__ import annotations

import copy

import pytest
from ray.autoscaler._private.util import prepare_config, validate_config

from tests.twin.config import (REPLACED_KEYS, VERBATIM_KEYS, TwinDrift, TwinSpec, load_cluster_yaml, substitutions,
                               twin_config)

SPEC = TwinSpec(env="/var/tmp/gan-twin-1-x/env/venv", ssh_user="root", ssh_private_key="/var/tmp/gan-twin-1-x/ssh/client")
COMMANDS = ("initialization_commands", "setup_commands", "head_setup_commands", "worker_setup_commands",
            "head_start_ray_commands", "worker_start_ray_commands")


@pytest.fixture
def cluster() -> dict:
    return load_cluster_yaml()


@pytest.fixture
def twin(cluster) -> dict:
    return twin_config(cluster, SPEC)


def test_the_twin_is_a_valid_local_cluster_of_one_head_and_one_worker(twin):
    prepared = prepare_config(copy.deepcopy(twin))
    validate_config(prepared)  # Ray's schema and checks; raises if invalid
    assert prepared["provider"] == {"type": "local", "head_ip": "127.0.0.1", "worker_ips": ["127.0.0.2"]}
    assert prepared["auth"] == {"ssh_user": "root", "ssh_private_key": SPEC.ssh_private_key}
    (node_type,) = prepared["available_node_types"].values()
    assert (node_type["min_workers"], node_type["max_workers"]) == (1, 1)
    assert twin["cluster_name"] == "gan-study-twin"


def test_everything_but_the_substitutions_is_cluster_yamls(cluster, twin):
    assert set(cluster) <= set(VERBATIM_KEYS) | set(REPLACED_KEYS)
    table = substitutions(cluster, SPEC)
    for key in VERBATIM_KEYS:
        if key not in COMMANDS:
            assert twin[key] == cluster[key], key
            continue
        assert len(twin[key]) == len(cluster[key]), key
        for theirs, ours in zip(cluster[key], twin[key]):
            expected = theirs
            for row in table:
                if row.section == key:
                    expected = expected.replace(row.old, row.new)
            assert ours == expected, key
    # every row changes exactly one command of cluster.yaml
    for row in table:
        assert sum(row.old in command for command in cluster[row.section]) == 1, row
        assert sum(a != b for a, b in zip(cluster[row.section], twin[row.section])) >= 1, row


def test_the_substitutions(cluster, twin):
    """The image's environment -> the twin's; no GPU required; the head's {"CPU": 0} as the AWS updater applies it;
    the worker's own address and ports on the shared loopback."""
    assert twin["setup_commands"][0] == (f"grep -qx 'source {SPEC.env}/bin/activate' ~/.bashrc || "
                                         f"echo 'source {SPEC.env}/bin/activate' >> ~/.bashrc")
    assert not any("/opt/pytorch" in c for key in COMMANDS for c in twin[key])
    assert twin["worker_setup_commands"] == ["python -m studies.node_check"]
    assert cluster["available_node_types"]["head"]["resources"] == {"CPU": 0}
    head_start = twin["head_start_ray_commands"][1]
    assert "RAY_AUTH_MODE=token RAY_OVERRIDE_RESOURCES='{\"CPU\":0}' ray start --head --port=6379" in head_start
    worker_start = twin["worker_start_ray_commands"][1]
    assert "RAY_AUTH_MODE=token ray start --node-ip-address=127.0.0.2 " in worker_start
    assert "--object-manager-port=8077" in worker_start and "--object-manager-port=8076" in head_start
    assert "--dashboard-agent-listen-port=52366" in worker_start  # the head's agent keeps Ray's default 52365
    assert "--address=$RAY_HEAD_IP:6379" in worker_start


def test_a_new_command_of_cluster_yaml_flows_into_the_twin(cluster):
    cluster["setup_commands"].append("echo a new setup step")
    cluster["worker_setup_commands"].insert(0, "nvidia-smi")
    twin = twin_config(cluster, SPEC)
    assert twin["setup_commands"][-1] == "echo a new setup step"
    assert twin["worker_setup_commands"] == ["nvidia-smi", "python -m studies.node_check"]


def _replace(section, old, new):
    def change(cluster):
        cluster[section] = [c.replace(old, new) for c in cluster[section]]
    return change


DRIFTS = {
    "another image environment": (_replace("setup_commands", "/opt/pytorch", "/opt/conda"), "setup_commands"),
    "the node check twice": (lambda c: c["worker_setup_commands"].append("python -m studies.node_check --require-gpu"),
                             "worker_setup_commands"),
    "the worker's object manager port moved": (_replace("worker_start_ray_commands", "--object-manager-port=8076",
                                                        "--object-manager-port=9000"), "worker_start_ray_commands"),
    "a head started another way": (_replace("head_start_ray_commands", "ray start --head", "ray start  --head"),
                                   "head_start_ray_commands"),
    "a docker section": (lambda c: c.update(docker={"image": "rayproject/ray:2.60.0"}), "docker"),
    "per-type setup commands": (lambda c: c["available_node_types"]["gpu_worker"].update(
        worker_setup_commands=["true"]), "gpu_worker"),
    "a second worker type": (lambda c: c["available_node_types"].update(
        cpu_worker=copy.deepcopy(c["available_node_types"]["gpu_worker"])), "worker node types"),
    "worker resources": (lambda c: c["available_node_types"]["gpu_worker"].update(resources={"CPU": 2}),
                         "resources"),
}


@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_a_cluster_yaml_that_drifted_from_the_table_stops_the_generator(cluster, drift):
    change, named = DRIFTS[drift]
    change(cluster)
    with pytest.raises(TwinDrift, match=named):
        twin_config(cluster, SPEC)
