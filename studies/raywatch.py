"""The driver's own Ray processes, watched: when one dies, the study ends in its own words.

Why: when the raylet or the GCS on the driver's machine dies (killed, out of memory, a crash), Ray's core worker ends
the driver process from C++, without a Python exception: the study exited 1 after 13 s (raylet) or 60 s (GCS) with
Ray's log lines or nothing at all, no summary and no ``--resume`` command, and a local Ray's other processes were
left running. The experiment state Ray saved at the last checkpoint is intact (``--resume`` finishes the study
identically), so the only thing missing is the study's last line.

``watch_ray`` records, when the study starts, the raylet of the driver's node and the GCS of its Ray session, where
they run on this machine (found by their command lines: the raylet's socket, the session folder), and polls them
from a daemon thread. When one of them is gone it prints ``<study>: error: ...; continue with: <resume command>`` on
stderr, ends the processes of a local Ray the driver started itself (so none is orphaned), and exits the process
with code 1 at once, before Ray's core worker does so in silence. A cluster whose raylet and GCS run on other
machines (a driver joined from outside) has nothing here to watch; its failures reach ``tuner.fit`` as Ray's
exceptions, which the runner turns into the same line.
"""
from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

import ray

POLL_S = 0.5


def processes() -> Iterator[tuple[int, list[str]]]:
    """(pid, command line) of every process this machine shows (one that ends meanwhile is left out)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                yield int(pid), f.read().decode(errors="replace").split("\0")
        except OSError:
            continue


def session_processes() -> dict[int, str]:
    """pid -> what it is ("raylet", "GCS") for the raylet of the driver's own node and this session's GCS, where
    they run on this machine. (Other nodes' raylets are not watched: a lost worker node is Tune's to recover from.)"""
    node = ray._private.worker.global_worker.node  # the driver's view of its node
    session, raylet = node.get_session_dir_path(), node.raylet_socket_name
    found = {}
    for pid, args in processes():
        if args[0].endswith("raylet/raylet") and f"--raylet_socket_name={raylet}" in args:
            found[pid] = "raylet"
        elif args[0].endswith("gcs/gcs_server") and any(session in a for a in args[1:]):
            found[pid] = "GCS"
    return found


@contextmanager
def watch_ray(study: str, resume: str, started_ray: bool) -> Iterator[None]:
    """See the module docstring; the watch ends with the ``with`` block (before the driver shuts Ray down)."""
    try:
        watched = session_processes()
    except Exception:  # noqa: BLE001 -- no view of the session (an unusual Ray setup): nothing to watch
        watched = {}
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(POLL_S):
            for pid, what in watched.items():
                if _alive(pid) or stop.is_set():
                    continue
                sys.stdout.flush()
                sys.stderr.write(f"{study}: error: Ray's {what} on this machine (pid {pid}) died under the study; "
                                 f"what its trials saved stays: continue with: {resume}\n")
                sys.stderr.flush()
                if started_ray:
                    _end_local_ray()
                os._exit(1)  # before Ray's core worker ends this process without a word

    thread = threading.Thread(target=poll, name="gan-study-raywatch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")", 1)[1].split()[0] != "Z"  # a zombie is dead
    except (OSError, IndexError):
        return False


def _end_local_ray() -> None:
    """Kill what is left of the local Ray this driver started (its agents, workers, dashboard)."""
    try:
        ray._private.worker._global_node.kill_all_processes(check_alive=False, allow_graceful=False)
    except Exception:  # noqa: BLE001 -- best effort on the way out: the process exits next
        pass
