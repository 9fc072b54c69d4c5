"""Security (issue 7, part 5): no Ray port reachable from the internet, nothing unpickled from a results directory,
every torch.load weights-only, no credentials in the repository.

Also elsewhere: token auth on every ``ray start``, the dashboard on the head's localhost, no credentials in
cluster.yaml and Ray's own validation of it (tests/studies/test_cluster_yaml.py); checkpoints that run code when
unpickled are refused (tests/gan_core/test_checkpoint.py, tests/test_bad_input.py).
"""
from __future__ import annotations

import ast
import json
import os
import pickle
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CLUSTER_YAML = REPO / "cluster.yaml"
SHIPPED = ("gan_core", "studies", "analysis", "benchmarks")  # the code that runs on users' machines and clusters
RAY_PORTS = {"GCS": 6379, "dashboard": 8265, "Ray client": 10001, "object manager": 8076}
WORLD = ("0.0.0.0/0", "::/0")


# ------------------------------------------------------------------------------------------ cluster.yaml: ports
def ray_default_inbound_rules(group_ids: list[str]) -> list[dict]:
    """The ingress rules ``ray up`` gives a security group it creates (ray/autoscaler/_private/aws/config.py,
    ``_create_default_inbound_rules``, Ray 2.60): all traffic from the cluster's own groups, SSH from anywhere.
    ``test_the_default_rules_are_rays`` checks this copy against Ray's function where boto3 is installed."""
    return [{"FromPort": -1, "ToPort": -1, "IpProtocol": "-1",
             "UserIdGroupPairs": [{"GroupId": g} for g in sorted(group_ids)]},
            {"FromPort": 22, "ToPort": 22, "IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]


def effective_inbound_rules(config: dict) -> list[dict]:
    """What the security group of cluster.yaml admits: Ray's defaults plus provider.security_group.IpPermissions."""
    extra = config["provider"].get("security_group", {}).get("IpPermissions", [])
    return ray_default_inbound_rules(["sg-of-this-cluster"]) + list(extra)


def open_to_world(rule: dict) -> bool:
    sources = [r.get("CidrIp") for r in rule.get("IpRanges", [])] + \
        [r.get("CidrIpv6") for r in rule.get("Ipv6Ranges", [])]
    return any(s in WORLD for s in sources)


def covers(rule: dict, port: int) -> bool:
    if rule["IpProtocol"] in ("-1", "all"):
        return True
    return rule["IpProtocol"] == "tcp" and rule["FromPort"] <= port <= rule["ToPort"]


@pytest.fixture(scope="module")
def cluster_config() -> dict:
    return yaml.safe_load(CLUSTER_YAML.read_text())


def test_no_ray_port_is_open_to_the_internet(cluster_config):
    rules = effective_inbound_rules(cluster_config)
    world = [r for r in rules if open_to_world(r)]
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in world] == [("tcp", 22, 22)]  # SSH only
    for name, port in RAY_PORTS.items():
        assert not any(covers(r, port) for r in world), name
    # everything else comes only from the cluster's own security group
    others = [r for r in rules if not open_to_world(r)]
    assert others == [{"FromPort": -1, "ToPort": -1, "IpProtocol": "-1",
                       "UserIdGroupPairs": [{"GroupId": "sg-of-this-cluster"}]}]
    # and no node brings security groups or interfaces of its own that these rules would not describe
    for node_type in cluster_config["available_node_types"].values():
        assert not {"SecurityGroupIds", "NetworkInterfaces"} & set(node_type["node_config"])


def test_the_rules_check_can_fail(cluster_config):
    """The check above on a config that opens the dashboard to the world: it must see it."""
    bad = json.loads(json.dumps(cluster_config))
    bad["provider"]["security_group"]["IpPermissions"] = [
        {"FromPort": 8265, "ToPort": 8265, "IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    world = [r for r in effective_inbound_rules(bad) if open_to_world(r)]
    assert [name for name, port in RAY_PORTS.items() if any(covers(r, port) for r in world)] == ["dashboard"]


def test_the_default_rules_are_rays():
    pytest.importorskip("boto3", reason="Ray's AWS provider module needs boto3 (pip install boto3)")
    from ray.autoscaler._private.aws.config import _create_default_inbound_rules

    assert _create_default_inbound_rules(["sg-b", "sg-a"]) == ray_default_inbound_rules(["sg-a", "sg-b"])


# ------------------------------------------------------------------------------------ nothing unpickles input
def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
            yield owner, name, node


UNSAFE = {("pickle", "load"), ("pickle", "loads"), ("cloudpickle", "load"), ("cloudpickle", "loads"),
          ("dill", "load"), ("dill", "loads"), ("pd", "read_pickle"), ("pandas", "read_pickle"), ("joblib", "load"),
          ("", "Unpickler"), ("pickle", "Unpickler")}


def audit(source: str) -> tuple[int, list[str]]:
    """(number of torch.load calls, problems): a torch.load without weights_only=True, any unpickling call, or
    np.load with allow_pickle=True."""
    problems, loads = [], 0
    for owner, name, node in _calls(ast.parse(source)):
        kw = {k.arg: k.value for k in node.keywords}
        if (owner, name) == ("torch", "load"):
            loads += 1
            if not (isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True):
                problems.append(f"line {node.lineno}: torch.load without weights_only=True")
        elif (owner, name) in UNSAFE:
            problems.append(f"line {node.lineno}: {owner + '.' if owner else ''}{name}")
        elif (owner, name) in (("np", "load"), ("numpy", "load")) and isinstance(kw.get("allow_pickle"), ast.Constant) \
                and kw["allow_pickle"].value:
            problems.append(f"line {node.lineno}: np.load(allow_pickle=True)")
    return loads, problems


def test_every_torch_load_is_weights_only_and_nothing_unpickles():
    loads, problems = 0, {}
    for package in SHIPPED:
        for path in sorted((REPO / package).rglob("*.py")):
            n, found = audit(path.read_text())
            loads += n
            if found:
                problems[str(path.relative_to(REPO))] = found
    assert problems == {}
    assert loads == 2  # gan_core/checkpoint.py and gan_core/metrics/classifier.py: both weights_only=True


def test_the_audit_can_fail():
    source = ("import torch, pickle, numpy as np, pandas as pd\n"
              "torch.load('a')\ntorch.load('b', weights_only=False)\ntorch.load('c', weights_only=True)\n"
              "pickle.loads(b'')\npd.read_pickle('d')\nnp.load('e', allow_pickle=True)\nnp.load('f')\n")
    assert audit(source) == (3, ["line 2: torch.load without weights_only=True",
                                 "line 3: torch.load without weights_only=True", "line 5: pickle.loads",
                                 "line 6: pd.read_pickle", "line 7: np.load(allow_pickle=True)"])


class _RunsCode:
    """Unpickling this writes a marker file: the proof that something unpickled it."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('unpickled')",))


def booby_trapped_study(root: Path) -> tuple[Path, list[Path]]:
    """A results directory as a study leaves it, with every pickle Ray writes (and a checkpoint) replaced by one that
    runs code when unpickled. Returns the experiment folder and the markers that must never appear."""
    import torch

    from gan_core.checkpoint import FORMAT
    from gan_core.config import GANConfig

    exp = root / "trap"
    markers = []

    def trap(path: Path, torch_format: bool = False) -> None:
        marker = root / f"unpickled_{len(markers)}_{path.name}"
        markers.append(marker)
        path.parent.mkdir(parents=True, exist_ok=True)
        if torch_format:
            torch.save({"format": FORMAT, "x": _RunsCode(marker)}, path, pickle_module=pickle)
        else:
            path.write_bytes(pickle.dumps(_RunsCode(marker)))

    exp.mkdir()
    (exp / "study.json").write_text(json.dumps({"study": "trap", "primary_metric": "reverse_kl", "mode": "min"}))
    trap(exp / "tuner.pkl")
    trap(exp / "trainable.pkl")
    flat = GANConfig.from_flat({"dataset": "ring8", "steps": 4, "eval_every": 2}).to_flat()
    for seed in (0, 1):
        tid = f"a1b2c_0000{seed}"
        trial = exp / f"baseline_seed{seed}_{tid}"
        params = {**flat, "seed": seed, "variant": "baseline"}
        trial.mkdir()
        (trial / "params.json").write_text(json.dumps(params))
        trap(trial / "params.pkl")
        rows = [{"g_steps": s, "d_steps": s, "status": st, "reverse_kl": 1.0 - 0.1 * seed, "modes_captured": 3.0,
                 "high_quality_frac": 0.5, "diversity": 1.0, "d_loss": 1.3, "g_loss": 0.7, "d_real": 0.5,
                 "d_fake": 0.5, "trial_id": tid, "training_iteration": i + 1, "time_total_s": 1.0 + i,
                 "checkpoint_dir_name": f"checkpoint_{i:06d}"}
                for i, (s, st) in enumerate(((2, "running"), (4, "ok")))]
        (trial / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
        for i in range(2):
            trap(trial / f"checkpoint_{i:06d}" / "state.pt", torch_format=True)
    return exp, markers


def test_the_analysis_never_unpickles_a_results_directory(tmp_path):
    from analysis.report import write_report
    from analysis.results import load_results

    exp, markers = booby_trapped_study(tmp_path)
    results = load_results(str(exp))
    assert list(results.trials["status"]) == ["ok", "ok"]
    out = write_report(str(exp))  # with the sample figures, which open the checkpoints
    md = (out / "report.md").read_text()
    assert len(markers) == 8
    assert [m for m in markers if m.exists()] == []  # no trap went off
    # the checkpoints were tried, safely, and refused as what they are
    assert re.search(r"Figure from \S+/baseline_seed0_a1b2c_00000/checkpoint_000001/state\.pt skipped: checkpoint "
                     r"'\S+' is unreadable \(truncated, or not a gan-study checkpoint\)", md)


def test_the_traps_are_live(tmp_path):
    """The same files do run their code when unpickled: the test above would notice an analysis that did."""
    import torch

    exp, markers = booby_trapped_study(tmp_path)
    pickle.loads((exp / "tuner.pkl").read_bytes())
    torch.load(exp / "baseline_seed0_a1b2c_00000" / "checkpoint_000000" / "state.pt", weights_only=False)
    assert [m.exists() for m in markers] == [True, False, False, True, False, False, False, False]


# ------------------------------------------------------------------------------------------------ credentials
SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret key assignment": re.compile(r"aws_secret_access_key\s*[=:]\s*\S+", re.I),
    "private key": re.compile("-----BEGIN [A-Z ]*" + "PRIVATE KEY-----"),
    "Ray token assignment": re.compile(r"RAY_AUTH_TOKEN\s*=\s*['\"]?[0-9a-f]{32,}", re.I),
}


def repository_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout
        return [REPO / line for line in out.splitlines() if (REPO / line).is_file()]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every file but outputs and caches
        skip = {".git", "results", "runs", "__pycache__", ".pytest_cache"}
        files = []
        for folder, dirs, names in os.walk(REPO):
            dirs[:] = [d for d in dirs if d not in skip and not d.endswith(".egg-info")]
            files += [Path(folder, n) for n in names]
        return files


def test_no_credentials_in_the_repository():
    found = {}
    files = repository_files()
    for path in files:
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue  # binary
        hits = [name for name, rx in SECRET_PATTERNS.items() if rx.search(text)]
        if hits:
            found[str(path.relative_to(REPO))] = hits
    assert found == {}
    assert REPO / "cluster.yaml" in files and REPO / "gan_core" / "checkpoint.py" in files


def test_the_secret_patterns_match_secrets():
    fake = ["AKIA" + "ABCDEFGHIJKLMNOP", "aws_secret_access" + "_key = abc/def",
            "-----BEGIN OPENSSH " + "PRIVATE KEY-----", "RAY_AUTH_TOKEN=" + "0123456789abcdef" * 2]
    assert [name for text in fake for name, rx in SECRET_PATTERNS.items() if rx.search(text)] == list(SECRET_PATTERNS)
