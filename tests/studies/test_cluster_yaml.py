"""cluster.yaml: valid for Ray's own autoscaler, and safe (token auth, local dashboard, no credentials, exact Ray)."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import ray
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

CLUSTER_YAML = Path(__file__).resolve().parents[2] / "cluster.yaml"


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(CLUSTER_YAML.read_text())


@pytest.fixture(scope="module")
def prepared(raw) -> dict:
    config = prepare_config(copy.deepcopy(raw))
    validate_config(config)  # Ray's JSON schema and its own consistency checks; raises if invalid
    return config


def test_passes_rays_validation(prepared):
    assert prepared["provider"]["type"] == "aws"
    assert prepared["head_node_type"] == "head"
    assert set(prepared["available_node_types"]) == {"head", "gpu_worker"}


def test_cpu_head_and_autoscaling_gpu_workers(prepared):
    head = prepared["available_node_types"]["head"]
    worker = prepared["available_node_types"]["gpu_worker"]
    assert head["node_config"]["InstanceType"] == "m5.xlarge"
    assert head["resources"] == {"CPU": 0}  # the head runs the driver, no trials
    assert worker["node_config"]["InstanceType"] == "g5.xlarge"
    assert (worker["min_workers"], worker["max_workers"], prepared["max_workers"]) == (0, 8, 8)


def test_dashboard_bound_to_localhost(prepared):
    head_start = " ".join(prepared["head_start_ray_commands"])
    assert re.findall(r"--dashboard-host[= ](\S+)", head_start) == ["127.0.0.1"]


def test_token_auth_on_every_node(prepared):
    starts = [c for c in prepared["head_start_ray_commands"] + prepared["worker_start_ray_commands"]
              if "ray start" in c]
    assert len(starts) == 2
    assert all("RAY_AUTH_MODE=token ray start" in c for c in starts)
    # the token reaches every node as a file, never as text in this file
    assert prepared["file_mounts"]["~/.ray/auth_token"] == "~/.ray/auth_token"


def test_project_copied_and_installed_with_the_cluster_extra(prepared, raw):
    """On every node: ray[default] (``ray job submit``, the dashboard) and boto3 (the autoscaler) come with it."""
    assert prepared["file_mounts"]["~/gan-study"] == "."
    assert "pip install -e ~/gan-study'[cluster]'" in prepared["setup_commands"]
    assert raw["head_setup_commands"] == raw["worker_setup_commands"] == []  # the same install on every node


def test_ray_version_pinned_to_this_ray(prepared):
    docker = prepared["docker"]
    tags = [docker["head_image"], docker["worker_image"]]
    assert [re.fullmatch(r"rayproject/ray:(\d+\.\d+\.\d+)-py311-(cpu|gpu)", t).group(1) for t in tags] == \
        [ray.__version__] * 2
    pins = [m for c in prepared["setup_commands"] for m in re.findall(r"ray\.__version__ == '([^']+)'", c)]
    assert pins == [ray.__version__]


def test_no_credentials(raw):
    text = CLUSTER_YAML.read_text().lower()
    for word in ("aws_access_key", "aws_secret", "secret_access_key", "session_token", "ray_auth_token=",
                 "ssh_private_key"):
        assert word not in text
    assert re.search(r"akia[0-9a-z]{16}", text) is None  # an AWS access key id
    assert set(raw["auth"]) == {"ssh_user"}


def test_no_ray_port_open_to_the_world(prepared):
    assert prepared["provider"]["security_group"]["IpPermissions"] == []
