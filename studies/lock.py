"""One study, one writer: an exclusive lock on a study's experiment directory for the driver's lifetime.

Why: two drivers started with the same --storage-path and --name a second apart both pass the "already exists"
check (neither has written anything yet) and then write into one folder; the report would count every seed twice.
So before that check the driver takes ``<experiment directory>/.driver.lock`` with ``flock`` (non-blocking) and holds
it until it ends; a second driver gets one line naming the holder. The kernel drops the lock when the process dies
(a killed driver never leaves a stale lock), and Linux's NFS client implements ``flock`` with NFS byte-range
locks, so the lock holds across the machines of a shared filesystem too. An object store (``s3://``) has no
locks: there the report detects a second writer by its duplicated trials (``analysis.load``).

Why inside the experiment directory: a lock is only as good as its key. The lock file used to sit beside the
directory, named after the path's last part, so a second driver that reached the same directory through a symlink
from another storage path (or through a second mount of the same disk) took a lock of its own, and the two drivers
destroyed the study between them. A file inside the directory is the same file however the directory is reached.
The driver creates the directory to hold it (Ray writes into an existing one); on release the file is removed
(after checking, under the lock, that the path still names the locked file, so that a lock is never held on a file
someone else already replaced), and so are the folders it created, when nothing else was written into them.
"""
from __future__ import annotations

import errno
import fcntl
import os
import socket
from contextlib import contextmanager
from typing import Iterator

from studies.cli import StudyInputError
from studies.experiment_dir import ExperimentDir, missing_dirs


LOCK_FILE = ".driver.lock"


def lock_path(loc: ExperimentDir) -> str:
    return os.path.join(loc.experiment_path, LOCK_FILE)


@contextmanager
def study_lock(loc: ExperimentDir) -> Iterator[None]:
    """Hold the study's lock for the ``with`` block; StudyInputError (one line) if another driver holds it.

    A URI has no lock (see the module docstring). The storage path must be writable (``check_writable`` made sure
    of it); folders this creates for the lock file are removed again on release when nothing else was written there.
    """
    if not loc.is_local:
        yield
        return
    created = missing_dirs(loc.experiment_path)
    try:
        os.makedirs(loc.experiment_path, exist_ok=True)
    except OSError as e:
        raise StudyInputError(f"cannot create the study's folder {loc.experiment_path!r}: {e.strerror or e}; "
                              f"allowed: a writable --storage-path") from None
    path = lock_path(loc)
    fd = _acquire(path, loc)
    try:
        yield
    finally:
        try:
            if os.path.exists(path) and os.path.samestat(os.stat(path), os.fstat(fd)):
                os.unlink(path)  # still under the lock: a waiting driver then finds no file, or a new one
        except OSError:  # a storage that turned read-only or went away: the file stays, the lock goes below
            pass
        finally:
            os.close(fd)  # releases the flock
        for folder in created:  # deepest first; one that holds anything (the study itself) stays
            try:
                os.rmdir(folder)
            except OSError:
                break


def _acquire(path: str, loc: ExperimentDir) -> int:
    """The open, locked lock file (its descriptor), with this driver's host and pid written in it.

    The file is held open read-only where the filesystem allows an exclusive flock on such a descriptor (local
    filesystems): a descriptor open for writing would keep the storage from being remounted read-only, say. NFS
    emulates flock with byte-range locks, which need the file open for writing: there it is held read-write.
    """
    while True:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                writable = False
            except OSError as e:
                if e.errno != errno.EBADF:
                    raise
                os.close(fd)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                writable = True
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise StudyInputError(f"another driver ({holder}) is running the study {loc.experiment_path!r} now "
                                  f"(it holds {path!r}); allowed: one driver per study: wait for it to end, or "
                                  f"pass another --name") from None
        except OSError as e:
            os.close(fd)
            raise StudyInputError(f"cannot lock the study {loc.experiment_path!r} ({path!r}: "
                                  f"{e.strerror or e}); allowed: a storage path whose filesystem supports "
                                  f"locks, or a URI such as s3://bucket/prefix") from None
        try:
            same = os.path.samestat(os.stat(path), os.fstat(fd))
        except FileNotFoundError:  # the previous holder removed it after we opened it: take the new one
            same = False
        if same:
            break
        os.close(fd)
    owner = f"{socket.gethostname()} {os.getpid()}\n".encode()
    if writable:
        os.ftruncate(fd, 0)
        os.pwrite(fd, owner, 0)
    else:  # a second descriptor, closed at once: a flock belongs to the first one's open file, and stays
        with open(path, "wb") as f:
            f.write(owner)
    return fd


def _holder(fd: int) -> str:
    """``host <h>, pid <p>`` from a held lock file, or "unknown" while its holder has not written it yet."""
    try:
        text = os.pread(fd, 256, 0).decode(errors="replace").split()
    except OSError:
        text = []
    return f"host {text[0]}, pid {text[1]}" if len(text) == 2 else "host and pid unknown"

