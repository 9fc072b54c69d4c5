"""The twin's machinery: two "nodes" on this machine that ``ray up`` reaches by ssh, and the client that runs it.

Layout (everything under one base folder ``B``, outside /tmp and outside the ssh user's home, removed at the end)::

    B/env/venv       the prepared environment: a virtualenv with --system-site-packages (the machine's installed
                     packages, so no node downloads any), Ray's console scripts, pip offline (PIP_NO_INDEX and
                     PIP_FIND_LINKS=B/env/wheels in its activate script)
    B/env/wheels     what the project's editable build needs (its build-system requires), downloaded beforehand
    B/ssh            the client's key, the sshd host key and configs
    B/shared         the storage every node and this machine see at the same path (the study's --storage-path)
    B/private/NODE   one node's own home (~), /tmp and copy of the environment; hidden from every node
    B/logs           each node's sshd output; the test's ray up, ray down and study job output
    B/twin.yaml      the twin's cluster config (tests/twin/config.py)

A node is ``sshd -D`` as PID 1 of a PID and mount namespace of its own, inside one network namespace that has only
``lo`` (the head on 127.0.0.1, the worker on 127.0.0.2). In its mount namespace: its own ~ and /tmp (so its Ray,
/tmp/ray, the local provider's state and ssh's control sockets are its own), its own copy of the environment at
the environment's path (the setup's ``pip install -e ~/gan-study`` goes there), the machine's Python and this
checkout read-only, /run a tmpfs, B/private hidden. ``ray stop`` on a node sees only that node's processes; ending a
node's PID 1 ends every process the node ever started. The client (``ray up``, ``ray job submit``, ``ray down``)
runs in the same network namespace, with its own PID namespace, /tmp and $HOME (its ~/.ray/auth_token is the twin's
token, never this machine's).
"""
from __future__ import annotations

import json
import os
import pwd
import shlex
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from dataclasses import dataclass, field
from importlib.metadata import distribution
from pathlib import Path

import yaml

from tests.twin.config import TwinSpec, load_cluster_yaml, twin_config

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("ip", "unshare", "mount", "ssh", "ssh-keygen", "rsync")
SSHD_PATHS = ("/usr/sbin/sshd", "/usr/bin/sshd")
BASE_PARENT = Path("/var/tmp")  # not /tmp (each node has its own) and not the ssh user's home (each node has its own)
NODE_IPS = {"head": "127.0.0.1", "worker": "127.0.0.2"}
PREFIX = "gan-twin-"  # of the network namespace and the base folder: gan-twin-<pid of the test process>-<random>
RAY_CLI = [sys.executable, "-c", "import sys; from ray.scripts.scripts import main; sys.exit(main())"]


def missing_requirements() -> list[str]:
    """Why the twin cannot run here (empty when it can): root, and the tools it uses."""
    missing = [] if os.geteuid() == 0 else ["root (namespaces, mounts, sshd)"]
    missing += [tool for tool in TOOLS if shutil.which(tool) is None]
    if sshd() is None:
        missing.append("sshd (Debian: apt-get install openssh-server)")
    return missing


def sshd() -> str | None:
    return next((p for p in SSHD_PATHS if os.access(p, os.X_OK)), shutil.which("sshd"))


def run(argv, timeout=120, **kw) -> subprocess.CompletedProcess:
    """A command of the twin's own set-up; its output in the error when it fails."""
    got = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if got.returncode != 0:
        raise RuntimeError(f"{shlex.join(map(str, argv))} exited {got.returncode}: {(got.stdout + got.stderr)[-3000:]}")
    return got


# ------------------------------------------------------------------------------------------------------ processes
@dataclass(frozen=True)
class Proc:
    pid: int      # on this machine
    ns_pid: int   # inside the node's PID namespace
    comm: str
    cmdline: str


def _read(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:  # gone meanwhile
        return ""


def pid_namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def processes_in(namespace: str) -> list[Proc]:
    """Every process of one PID namespace, seen from this machine's."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or pid_namespace(int(entry)) != namespace:
            continue
        status = _read(f"/proc/{entry}/status")
        ns_pids = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [entry])
        out.append(Proc(int(entry), int(ns_pids[-1]), _read(f"/proc/{entry}/comm").strip(),
                        _read(f"/proc/{entry}/cmdline").replace("\0", " ").strip()))
    return sorted(out, key=lambda p: p.ns_pid)


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read(f"/proc/{entry}/stat")
            if stat and int(stat.rpartition(")")[2].split()[1]) == pid:
                out.append(int(entry))
    return out


# ---------------------------------------------------------------------------------------------------- environment
def prepare_environment(env: Path) -> dict[str, float]:
    """B/env: the virtualenv every node gets a copy of, and the wheels its pip may read. Returns seconds per step."""
    times = {}
    t = time.monotonic()
    venv = env / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)])
    times["venv"] = time.monotonic() - t
    site_dir = Path(run([str(venv / "bin" / "python"), "-c", "import site; print(site.getsitepackages()[0])"]
                        ).stdout.strip())
    if sys.prefix != sys.base_prefix:  # this Python is itself a virtualenv: its packages are the machine's too
        (site_dir / "zz_twin_machine.pth").write_text(
            "".join(f"import site; site.addsitedir({p!r})\n" for p in site.getsitepackages()))
    # Ray's commands, as pip would have installed them with Ray into this environment
    for ep in distribution("ray").entry_points:
        if ep.group == "console_scripts":
            module, _, attr = ep.value.partition(":")
            script = venv / "bin" / ep.name
            script.write_text(f"#!{venv}/bin/python\nimport sys\nfrom {module} import {attr}\n"
                              f"if __name__ == '__main__':\n    sys.exit({attr}())\n")
            script.chmod(0o755)
    # pip offline: the nodes have no route to an index, and need none (the machine's packages satisfy every
    # requirement; the editable build needs its build-system requires, downloaded here)
    t = time.monotonic()
    wheels = env / "wheels"
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", str(wheels),
         *requires], timeout=300)
    times["wheels"] = time.monotonic() - t
    with open(venv / "bin" / "activate", "a") as f:
        f.write(f"\n# the cluster twin: pip reads only these wheels (tests/twin/nodes.py)\n"
                f"export PIP_NO_INDEX=1 PIP_FIND_LINKS={shlex.quote(str(wheels))}\n")
    return times


def _outermost(paths) -> list[str]:
    """The paths that are not inside another one of them."""
    paths = sorted({os.path.realpath(p) for p in paths if os.path.realpath(p) != "/"})
    return [p for p in paths if not any(p != q and p.startswith(q + "/") for q in paths)]


def _under(path: str, root: str) -> bool:
    return (path.rstrip("/") + "/").startswith(root.rstrip("/") + "/")


def node_script(base: Path, name: str, user_home: str) -> str:
    """The shell that becomes the node: its mounts, then ``exec sshd`` as PID 1 of its PID namespace."""
    q = shlex.quote
    own = base / "private" / name
    private = {user_home: own / "home", "/tmp": own / "tmp"}  # the node's own, in place of this machine's
    python = _outermost([sys.base_prefix, sys.prefix, *site.getsitepackages()])
    lines = ["set -eu",
             f"mount --bind {q(str(own / 'venv'))} {q(str(base / 'env' / 'venv'))}"]
    # the machine's Python and this checkout, read-only: nothing a node runs may change them
    for path in _outermost([*python, str(REPO)]):
        if not any(_under(path, root) for root in private):
            lines.append(f"mount --rbind {q(path)} {q(path)} && mount -o remount,bind,ro {q(path)}")
    # a Python inside the ssh user's home (pyenv) or /tmp stays where it was in the node's own, read-only
    for path in python:
        for root, instead in private.items():
            if _under(path, root):
                inside = instead / os.path.relpath(path, root)
                inside.mkdir(parents=True, exist_ok=True)
                lines.append(f"mount --rbind {q(path)} {q(str(inside))} && "
                             f"mount -o remount,bind,ro {q(str(inside))}")
    lines += [f"mount --rbind {q(str(instead))} {q(root)}" for root, instead in private.items()]
    lines += ["mount -t tmpfs -o mode=755,size=16m tmpfs /run && mkdir -m 755 /run/sshd",
              f"mount -t tmpfs -o ro,size=1m tmpfs {q(str(base / 'private'))}",
              f"exec {q(sshd())} -D -e -f {q(str(base / 'ssh' / f'sshd-{name}.conf'))}"]
    return "\n".join(lines)


SSHD_CONFIG = """\
ListenAddress {ip}:22
HostKey {ssh}/host_ed25519
AuthorizedKeysFile {ssh}/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
PrintMotd no
PrintLastLog no
MaxStartups 64
MaxSessions 64
LogLevel ERROR
"""


# ----------------------------------------------------------------------------------------------------------- twin
@dataclass
class Node:
    name: str
    ip: str
    proc: subprocess.Popen  # ``ip netns exec NS unshare ...``: its child is the node's PID 1 (sshd)
    namespace: str = ""     # the node's PID namespace (/proc/PID/ns/pid)

    def init_pid(self) -> int | None:
        """The node's PID 1, seen from this machine: the first process under ``proc`` in another PID namespace."""
        ours, todo = pid_namespace(os.getpid()), [self.proc.pid]
        while todo:
            pid = todo.pop(0)
            namespace = pid_namespace(pid)
            if namespace is not None and namespace != ours:
                return pid
            todo += children(pid)
        return None

    def processes(self) -> list[Proc]:
        return processes_in(self.namespace) if self.namespace else []


@dataclass
class Twin:
    base: Path
    netns: str
    user: str
    user_home: str
    nodes: dict[str, Node] = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    times: dict[str, float] = field(default_factory=dict)
    alive: dict[str, float] = field(default_factory=dict)  # address -> CPUs of each alive Ray node, once up
    account: dict = field(default_factory=dict)  # what the tests found, for the account printed at the end

    # -------------------------------------------------------------------------------------------------- paths
    @property
    def shared(self) -> Path:
        """A folder every node and this machine see at this same path (shared storage)."""
        return self.base / "shared"

    @property
    def config_path(self) -> Path:
        return self.base / "twin.yaml"

    def host_path(self, node: str, path: str) -> Path:
        """Where this machine sees ``path`` (under the node's own ~ or /tmp) of one node: e.g. ``/tmp/x`` of the
        head is a folder only the head (and the study's driver, which runs there) sees; the worker's /tmp/x is
        another folder."""
        own = self.base / "private" / node
        if path == "~" or path.startswith("~/"):
            return own / "home" / path[2:]
        if path == "/tmp" or path.startswith("/tmp/"):
            return own / "tmp" / path[5:]
        raise ValueError(f"{path}: not a node's own path (its ~ or /tmp)")

    # ------------------------------------------------------------------------------------------------- client
    def client_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "PIP_"))}
        env.update(HOME=str(self.base / "private" / "client" / "home"), RAY_AUTH_MODE="token",
                   RAY_UP_enable_autoscaler_v2="0",  # Ray 2.60's v2 autoscaler never starts a local worker
                   RAY_USAGE_STATS_ENABLED="0")
        return env

    def client_argv(self, argv: list[str]) -> list[str]:
        """``argv`` as the client runs it: in the twin's network namespace, a PID namespace and /tmp of its own. A
        checkout under /tmp (a clone in /tmp) stays where it is in that /tmp: ``ray up`` syncs it to the nodes by its
        path."""
        own_tmp = self.base / "private" / "client" / "tmp"
        keep = ""
        if _under(str(REPO), "/tmp"):
            inside = own_tmp / os.path.relpath(REPO, "/tmp")
            inside.mkdir(parents=True, exist_ok=True)
            keep = f"mount --rbind {shlex.quote(str(REPO))} {shlex.quote(str(inside))} && "
        script = f'{keep}mount --rbind {shlex.quote(str(own_tmp))} /tmp && exec "$@"'
        return ["ip", "netns", "exec", self.netns, "unshare", "--pid", "--fork", "--kill-child", "--mount",
                "--mount-proc", "--", "/bin/sh", "-c", script, "client", *argv]

    def client(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess:
        proc = self.client_popen(argv)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            return subprocess.CompletedProcess(argv, 124, out + f"\n(killed after {timeout} s)", "")
        return subprocess.CompletedProcess(argv, proc.returncode, out, "")

    def client_popen(self, argv: list[str], output=subprocess.PIPE) -> subprocess.Popen:
        """The client's command in the background, its stdout and stderr together to ``output`` (a pipe, or a file
        for a long command that nobody reads meanwhile)."""
        return subprocess.Popen(self.client_argv(argv), cwd=REPO, env=self.client_env(), stdin=subprocess.DEVNULL,
                                stdout=output, stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def ray(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return self.client([*RAY_CLI, *args], timeout)

    def job_argv(self, entrypoint: list[str]) -> list[str]:
        """``ray job submit`` of ``entrypoint`` to the head's dashboard (the client shares the head's loopback)."""
        return [*RAY_CLI, "job", "submit", "--address", "http://127.0.0.1:8265", "--", *entrypoint]

    # -------------------------------------------------------------------------------------------------- nodes
    def start_node(self, name: str) -> Node:
        own = self.base / "private" / name
        (own / "tmp").mkdir(parents=True)
        (own / "tmp").chmod(0o1777)
        (own / "home").mkdir()
        (own / "home" / ".bashrc").write_text("")  # the setup appends the environment's activation and the token mode
        shutil.copytree(self.base / "env" / "venv", own / "venv", symlinks=True)
        (self.base / "ssh" / f"sshd-{name}.conf").write_text(
            SSHD_CONFIG.format(ip=NODE_IPS[name], ssh=self.base / "ssh"))
        log = open(self.base / "logs" / f"{name}.log", "w")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, "unshare", "--pid", "--fork", "--kill-child", "--mount",
             "--mount-proc", "--", "/bin/sh", "-c", node_script(self.base, name, self.user_home)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        node = self.nodes[name] = Node(name, NODE_IPS[name], proc)
        deadline = time.monotonic() + 30
        while not node.namespace or not any(p.comm == "sshd" for p in node.processes()):
            init = node.init_pid()
            node.namespace = (pid_namespace(init) or "") if init else ""
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"node {name} did not start (exit {proc.poll()}): "
                                   f"{(self.base / 'logs' / f'{name}.log').read_text()[-2000:]}")
            time.sleep(0.1)
        return node

    def ssh_ready(self, name: str, timeout: float = 30) -> None:
        argv = ["ip", "netns", "exec", self.netns, "ssh", "-i", str(self.base / "ssh" / "client"), "-o",
                "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
                "LogLevel=ERROR", f"{self.user}@{NODE_IPS[name]}", "true"]
        deadline = time.monotonic() + timeout
        while (got := subprocess.run(argv, capture_output=True, text=True, timeout=30)).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"ssh to {name} fails: {got.stderr[-2000:]}")
            time.sleep(0.2)

    def raylet(self, node: str) -> Proc | None:
        return next((p for p in self.nodes[node].processes() if p.comm == "raylet"), None)

    def ray_logs(self, node: str) -> Path:
        """The log folder of the node's latest Ray session, as this machine sees it (``session_latest`` is a link to
        a path on the node: read here, it would name this machine's /tmp/ray)."""
        ray = self.host_path(node, "/tmp/ray")
        latest = ray / "session_latest"
        return ray / os.path.basename(os.readlink(latest)) / "logs" if latest.is_symlink() else ray / "(no session)"

    def monitor_log(self, lines: int = 60) -> str:
        """The tail of the head's autoscaler log (it launches and sets up the worker), for failure messages."""
        logs = self.ray_logs("head")
        out = []
        for name in ("monitor.out", "monitor.err", "monitor.log"):
            path = logs / name
            if path.is_file():
                out.append(f"--- head:{name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(out) or f"(no monitor logs under {logs})"


def create(cluster: dict | None = None) -> Twin:
    """Everything up to (not including) ``ray up``: the folder, the environment, keys, network namespace, nodes.
    What a failure on the way leaves is removed before the error is raised."""
    stale = sweep_stale()
    user = pwd.getpwuid(os.geteuid())
    BASE_PARENT.mkdir(parents=True, exist_ok=True)
    tag = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:6]}"  # the pid: a later run knows this one's leftovers
    twin = Twin(base=Path(tempfile.mkdtemp(prefix=f"{tag}-", dir=BASE_PARENT)), netns=tag, user=user.pw_name,
                user_home=user.pw_dir)
    twin.account["stale twins removed"] = stale
    try:
        _create(twin, cluster)
    except BaseException:
        destroy(twin)
        raise
    return twin


def _create(twin: Twin, cluster: dict | None) -> None:
    base = twin.base
    t = time.monotonic()
    for sub in ("env", "ssh", "shared", "logs", "private/client/home/.ray", "private/client/tmp"):
        (base / sub).mkdir(parents=True)
    (base / "private" / "client" / "tmp").chmod(0o1777)
    twin.times.update({f"prepare {k}": v for k, v in prepare_environment(base / "env").items()})
    ssh = base / "ssh"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "twin-client", "-f", str(ssh / "client")])
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "twin-host", "-f", str(ssh / "host_ed25519")])
    shutil.copy(ssh / "client.pub", ssh / "authorized_keys")
    token = base / "private" / "client" / "home" / ".ray" / "auth_token"
    token.write_text(uuid.uuid4().hex + uuid.uuid4().hex)
    token.chmod(0o600)
    spec = TwinSpec(env=str(base / "env" / "venv"), ssh_user=twin.user, ssh_private_key=str(ssh / "client"),
                    head_ip=NODE_IPS["head"], worker_ip=NODE_IPS["worker"])
    twin.config = twin_config(cluster if cluster is not None else load_cluster_yaml(), spec)
    twin.config_path.write_text(yaml.safe_dump(twin.config, sort_keys=False))
    twin.times["prepare"] = time.monotonic() - t
    t = time.monotonic()
    run(["ip", "netns", "add", twin.netns])
    run(["ip", "netns", "exec", twin.netns, "ip", "link", "set", "lo", "up"])
    for name in NODE_IPS:
        twin.start_node(name)
        twin.ssh_ready(name)
    twin.times["namespaces and sshd"] = time.monotonic() - t


def sweep_stale() -> list[str]:
    """Remove what a twin whose test process is gone (killed before its tear-down) left: the processes in its
    network namespace (its nodes and clients), the namespace, its folder. Only twins named after a dead pid."""
    removed = []
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    folders = [p.name for p in BASE_PARENT.glob(f"{PREFIX}*")] if BASE_PARENT.is_dir() else []
    for tag in {n for n in names if n.startswith(PREFIX)} | {f.rpartition("-")[0] for f in folders}:
        pid = tag[len(PREFIX):].partition("-")[0]
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        if tag in names:
            got = subprocess.run(["ip", "netns", "pids", tag], capture_output=True, text=True)
            for victim in got.stdout.split():
                try:
                    os.kill(int(victim), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", tag], capture_output=True)
        for folder in BASE_PARENT.glob(f"{tag}-*"):
            shutil.rmtree(folder, ignore_errors=True)
        removed.append(tag)
    return sorted(removed)


def destroy(twin: Twin, keep: str | None = None) -> dict:
    """End every node (its PID 1, and with it every process it started), the network namespace and the folder
    (its results and logs copied to ``keep`` first, where given), whatever fails on the way. Returns what was still
    running on each node before (``ray down`` leaves the local provider's worker running) and what is left after
    (nothing, when all went well)."""
    report: dict = {}
    try:
        report["running before"] = {name: [f"{p.comm} (pid {p.ns_pid})" for p in node.processes()]
                                    for name, node in twin.nodes.items()}
        for node in twin.nodes.values():
            init = node.init_pid()
            if init is not None:
                os.kill(init, signal.SIGKILL)  # a PID namespace ends with its PID 1: the kernel kills all in it
            if node.proc.poll() is None:
                node.proc.kill()  # unshare (it ignores SIGTERM); --kill-child sends its child SIGKILL too
            node.proc.wait(timeout=20)
        deadline = time.monotonic() + 20
        while any(node.processes() for node in twin.nodes.values()) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        report["left on nodes"] = {name: [f"{p.comm} (pid {p.pid})" for p in node.processes()]
                                   for name, node in twin.nodes.items()}
        subprocess.run(["ip", "netns", "del", twin.netns], capture_output=True)
        report["network namespace left"] = twin.netns in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                                        text=True).stdout
        report["processes mentioning the base folder"] = [
            f"{pid}: {cmd[:200]}" for pid, cmd in _processes_mentioning(str(twin.base))]
        if keep:
            try:
                _keep(twin, Path(keep))
            except (OSError, shutil.Error) as e:
                report["kept"] = f"failed: {str(e)[:500]}"
        shutil.rmtree(twin.base, ignore_errors=True)
        report["base folder left"] = twin.base.exists()
    return report


def _keep(twin: Twin, to: Path) -> None:
    """Copy the results, the twin's logs and every node's Ray logs to ``to``, for a look afterwards."""
    folders = [twin.base / "shared", twin.base / "logs",
               *(twin.base / "private").glob("*/tmp/ray/session_2*/logs")]
    for folder in folders:
        shutil.copytree(folder, to / folder.relative_to(twin.base), symlinks=True, dirs_exist_ok=True)


def _processes_mentioning(text: str) -> list[tuple[int, str]]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            cmd = _read(f"/proc/{entry}/cmdline").replace("\0", " ")
            if text in cmd:
                out.append((int(entry), cmd))
    return out


def dumps(account: dict) -> str:
    return json.dumps(account, indent=2, default=str)
