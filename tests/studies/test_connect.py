"""Joining a cluster: ``auto`` is resolved and probed at once (issue 27, finding 8: RAY_ADDRESS=auto with no cluster
retried a stale address for more than 170 s)."""
from __future__ import annotations

import socket

import pytest

from studies import connect
from studies.cli import StudyInputError


def test_auto_without_a_running_cluster_is_refused_at_once(monkeypatch):
    import ray._private.services as services

    def none_running(addr, temp_dir):
        raise ConnectionError("Could not find any running Ray instance.")

    monkeypatch.setattr(services, "get_ray_address_from_environment", none_running)
    with pytest.raises(StudyInputError) as e:
        connect.check_address("auto")
    assert str(e.value) == ("--address auto (or RAY_ADDRESS=auto): no Ray cluster is running on this machine; "
                            "allowed: start one (ray start --head, ray up) or leave the address out for a local Ray")


def test_auto_naming_a_cluster_that_is_gone_is_refused_at_once(monkeypatch):
    import ray._private.services as services

    with socket.socket() as s:  # a port nothing listens on: bound, never accepting
        s.bind(("127.0.0.1", 0))
        stale = f"127.0.0.1:{s.getsockname()[1]}"
        monkeypatch.setattr(services, "get_ray_address_from_environment", lambda addr, temp_dir: stale)
        monkeypatch.setenv("RAY_ADDRESS", "auto")
        with pytest.raises(StudyInputError) as e:
            connect.check_address(None)
    assert str(e.value) == (f"cannot reach the Ray cluster at '{stale}': Connection refused; allowed: the host:port "
                            f"of a running Ray head, or no --address for a local Ray")
