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


def test_project_copied_and_installed_with_the_cluster_extra(prepared):
    """On every node: ray[default] (``ray job submit``, the dashboard) and boto3 (the autoscaler) come with it, into
    the image's PyTorch environment, which every shell of the node activates first."""
    assert prepared["file_mounts"]["~/gan-study"] == "."
    setup = prepared["setup_commands"]
    assert setup[0] == ("grep -qx 'source /opt/pytorch/bin/activate' ~/.bashrc || "
                        "echo 'source /opt/pytorch/bin/activate' >> ~/.bashrc")
    assert setup[1] == f'pip install --quiet "ray[default,tune]=={ray.__version__}" -e ~/gan-study\'[cluster]\''


def test_ray_version_pinned_to_this_ray(prepared):
    pins = [m for c in prepared["setup_commands"] for m in re.findall(r"ray\[[a-z,]+\]==([0-9.]+)", c)]
    assert pins == [ray.__version__]
    assert "docker" not in prepared or prepared["docker"] == {}  # Ray and torch live in the image's environment


def test_every_node_boots_the_pytorch_image_with_a_driver_for_its_torch(prepared):
    """One image for head and workers (the same Python, torch and driver), resolved by AWS's public parameter."""
    images = {name: t["node_config"]["ImageId"] for name, t in prepared["available_node_types"].items()}
    assert images == {name: "resolve:ssm:/aws/service/deeplearning/ami/x86_64/"
                            "oss-nvidia-driver-gpu-pytorch-2.11-ubuntu-24.04/latest/ami-id" for name in images}


def test_gpu_workers_check_that_torch_can_use_their_gpu(raw, prepared):
    """After the common setup (Ray merges it in first), a GPU worker's setup fails unless torch can use its GPU."""
    assert raw["worker_setup_commands"] == ["python -m studies.node_check --require-gpu"]
    assert raw["head_setup_commands"] == ["python -m studies.node_check"]
    assert prepared["worker_setup_commands"] == raw["setup_commands"] + raw["worker_setup_commands"]


def test_the_token_is_private_on_every_node(prepared):
    assert "chmod 600 ~/.ray/auth_token" in prepared["setup_commands"]


def test_least_privilege_roles(prepared):
    """The workers cannot start instances: their role is the results bucket only (aws/worker-policy.json)."""
    import json

    profiles = {name: t["node_config"]["IamInstanceProfile"] for name, t in prepared["available_node_types"].items()}
    assert profiles == {"head": {"Name": "gan-study-head"}, "gpu_worker": {"Name": "gan-study-worker"}}
    worker = json.loads((CLUSTER_YAML.parent / "aws" / "worker-policy.json").read_text())
    actions = {a for s in worker["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                       "s3:AbortMultipartUpload"}
    assert {s["Resource"] for s in worker["Statement"]} == {"arn:aws:s3:::YOUR-BUCKET", "arn:aws:s3:::YOUR-BUCKET/*"}


def test_rsync_leaves_out_environments_results_and_reports(prepared):
    excluded = set(prepared["rsync_exclude"])
    assert {".venv", "venv", "env", "**/site-packages", "results", "runs", "*_report"} <= excluded
    assert prepared["rsync_filter"] == [".gitignore"]


def test_no_credentials(raw):
    text = CLUSTER_YAML.read_text().lower()
    for word in ("aws_access_key", "aws_secret", "secret_access_key", "session_token", "ray_auth_token=",
                 "ssh_private_key"):
        assert word not in text
    assert re.search(r"akia[0-9a-z]{16}", text) is None  # an AWS access key id
    assert set(raw["auth"]) == {"ssh_user"}


def test_no_ray_port_open_to_the_world(prepared):
    assert prepared["provider"]["security_group"]["IpPermissions"] == []


def test_setup_iam_makes_both_profiles_with_the_bucket_in_their_policies(tmp_path):
    """aws/setup-iam.sh against a stand-in `aws` that records its calls (and says no role or profile exists yet):
    the calls cluster.yaml's profiles need, each policy valid JSON naming the bucket and only it."""
    import json
    import os
    import subprocess

    log, policies = tmp_path / "calls", tmp_path / "policies"
    policies.mkdir()
    fake = tmp_path / "bin" / "aws"
    fake.parent.mkdir()
    fake.write_text(f"""#!/bin/sh
echo "$*" >> {log}
case "$*" in get-*|"iam get-"*) exit 254;; esac
for a in "$@"; do case "$a" in file://*)
  cp "${{a#file://}}" {policies}/$(echo "$*" | tr ' /' '__' | cut -c1-80).json;; esac; done
exit 0
""")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}"}
    script = str(CLUSTER_YAML.parent / "aws" / "setup-iam.sh")
    for bad in ("s3://results", "a/b"):
        refused = subprocess.run([script, bad], env=env, capture_output=True, text=True)
        assert (refused.returncode, refused.stdout) == (2, "")
        assert refused.stderr.startswith("usage: aws/setup-iam.sh BUCKET")
    done = subprocess.run([script, "my-results"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "instance profiles gan-study-head and gan-study-worker are ready for s3://my-results\n"
    calls = [line.split()[:2] + [line.split()[2] if len(line.split()) > 2 else ""] for line in
             log.read_text().splitlines()]
    assert [c[1] for c in calls] == ["get-role", "create-role", "get-instance-profile", "create-instance-profile",
                                     "add-role-to-instance-profile", "attach-role-policy", "put-role-policy",
                                     "get-role", "create-role", "get-instance-profile", "create-instance-profile",
                                     "add-role-to-instance-profile", "put-role-policy"]
    written = {p.name: json.loads(p.read_text()) for p in policies.iterdir()}
    puts = {name: doc for name, doc in written.items() if name.startswith("iam_put-role-policy")}
    assert len(puts) == 2
    for doc in puts.values():
        text = json.dumps(doc)
        assert "YOUR-BUCKET" not in text and "arn:aws:s3:::my-results" in text
    worker = next(doc for name, doc in puts.items() if "gan-study-worker" in name)
    assert {s["Resource"] for s in worker["Statement"]} == {"arn:aws:s3:::my-results", "arn:aws:s3:::my-results/*"}
