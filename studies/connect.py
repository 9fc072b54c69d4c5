"""Joining a Ray cluster, or starting a local one, without surprises.

- An explicit address (``--address`` or ``$RAY_ADDRESS``) is probed with a plain TCP connect first: ``ray.init``
  on an unreachable address retries for a minute or more before failing; a study should say so at once. ``auto`` is
  resolved the way Ray resolves it (the last ``ray start`` on this machine) and probed the same way.
- Without an address, Ray starts locally with ``address="local"``: a bare ``ray.init()`` would silently join
  whatever stale cluster ``/tmp/ray/ray_current_cluster`` names.
- Token authentication (Ray 2.59+): a new local Ray turns it on by itself; when joining a cluster Ray does not
  (an explicit address never auto-enables it). Where a token is available (``$RAY_AUTH_TOKEN``,
  ``$RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token``) and ``RAY_AUTH_MODE`` is unset, we set
  ``RAY_AUTH_MODE=token`` before joining, so the driver speaks to a token-protected cluster (a cluster without
  auth accepts such a client too). An explicit ``RAY_AUTH_MODE`` always wins.
- Already connected in this process (tests, notebooks): used as it is.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

import ray

from studies.cli import StudyInputError

PROBE_TIMEOUT_S = 5.0


def resolve_address(address: str | None) -> str | None:
    """``--address`` if given, else ``$RAY_ADDRESS`` if set and non-empty, else None (start Ray locally)."""
    if address is not None:
        return address
    env = os.environ.get("RAY_ADDRESS", "").strip()  # an environment variable, not a config: unset means local
    return env or None


def token_available() -> bool:
    if os.environ.get("RAY_AUTH_TOKEN", "").strip():
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH", "").strip()
    if path:
        return Path(path).expanduser().is_file()
    return (Path.home() / ".ray" / "auth_token").is_file()


def set_auth_mode_for_joining() -> None:
    if "RAY_AUTH_MODE" not in os.environ and token_available():
        os.environ["RAY_AUTH_MODE"] = "token"


def probe(address: str) -> None:
    """StudyInputError unless ``host:port`` accepts a TCP connection within PROBE_TIMEOUT_S."""
    if "://" in address:
        scheme = address.split("://", 1)[0]
        if scheme != "ray":
            raise StudyInputError(f"--address {address!r}: allowed forms: host:port, auto, ray://host:port")
        address = address.split("://", 1)[1]
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise StudyInputError(f"--address {address!r}: allowed forms: host:port, auto, ray://host:port")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT_S):
            pass
    except OSError as e:
        raise StudyInputError(f"cannot reach the Ray cluster at {address!r}: {e.strerror or e}; allowed: the "
                              f"host:port of a running Ray head, or no --address for a local Ray") from None


def check_address(address: str | None) -> str | None:
    """The address to join (see ``resolve_address``), probed if explicit; starts nothing. StudyInputError if it
    is malformed or unreachable."""
    address = resolve_address(address)
    if address == "auto":
        probe(_auto_address())
    elif address is not None:
        probe(address)
    return address


def _auto_address() -> str:
    """The cluster ``auto`` names: the last one ``ray start`` started on this machine (or, as Ray does, any running
    one); StudyInputError when there is none. Probing it at once matters: for a stale address (a cluster that is
    gone) ``ray.init`` retried for minutes before failing."""
    from ray._private.services import get_ray_address_from_environment

    try:
        found = get_ray_address_from_environment("auto", None)
    except ConnectionError:
        found = None
    if not found or found == "auto":
        raise StudyInputError("--address auto (or RAY_ADDRESS=auto): no Ray cluster is running on this machine; "
                              "allowed: start one (ray start --head, ray up) or leave the address out for a local "
                              "Ray") from None
    return found


def connect(address: str | None, worker_logs: bool) -> bool:
    """Make sure this process is a Ray driver; True if this call started a local Ray (the caller shuts it down).

    ``worker_logs``: forward the trials' stdout/stderr to this terminal (off keeps Ray's progress table readable;
    the logs stay in the Ray session directory either way).
    """
    address = check_address(address)
    if ray.is_initialized():
        return False
    if address is None:
        ray.init(address="local", log_to_driver=worker_logs)
        return True
    set_auth_mode_for_joining()
    try:
        ray.init(address=address, log_to_driver=worker_logs)
    except (ConnectionError, ValueError, RuntimeError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise StudyInputError(f"cannot join the Ray cluster at {address!r}: {first}") from None
    return False
