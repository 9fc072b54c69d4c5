"""One study, one writer: the lock a driver holds on its study, and what it leaves behind (nothing)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from studies.cli import StudyInputError
from studies.lock import lock_path, study_lock
from studies.experiment_dir import locate


def test_a_second_holder_of_the_same_study_is_refused_in_one_line(tmp_path):
    loc = locate(str(tmp_path), "s")
    with study_lock(loc):
        assert open(lock_path(loc)).read() == f"{os.uname().nodename} {os.getpid()}\n"
        with pytest.raises(StudyInputError) as e:
            with study_lock(loc):
                pass
        assert str(e.value) == (
            f"another driver (host {os.uname().nodename}, pid {os.getpid()}) is running the study "
            f"'{tmp_path / 's'}' now (it holds '{tmp_path / 's' / '.driver.lock'}'); allowed: one driver per study: "
            f"wait for it to end, or pass another --name")
        with study_lock(locate(str(tmp_path), "other")):  # another study of the same storage path: its own lock
            pass
    assert list(tmp_path.iterdir()) == []  # released: the file is gone
    with study_lock(loc):  # and the study can be taken again
        pass


def test_a_lock_held_by_another_process_is_released_when_it_dies(tmp_path):
    """flock belongs to the process: a driver killed with SIGKILL leaves a file, never a lock."""
    loc = locate(str(tmp_path), "s")
    code = (f"import os, sys; from studies.lock import study_lock; from studies.experiment_dir import locate\n"
            f"with study_lock(locate({str(tmp_path)!r}, 's')):\n"
            f"    print('held', flush=True); sys.stdin.read(); os._exit(9)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "held\n"
        with pytest.raises(StudyInputError, match=rf"another driver \(host \S+, pid {proc.pid}\)"):
            with study_lock(loc):
                pass
    finally:
        proc.kill()
        proc.wait()
    assert (tmp_path / "s" / ".driver.lock").exists()  # killed: its file stays, its lock does not
    with study_lock(loc):
        pass
    # the file goes with the lock; the folder the killed driver made stays (empty: no study, nothing to resume)
    assert [p.name for p in tmp_path.iterdir()] == ["s"] and list((tmp_path / "s").iterdir()) == []


def test_folders_made_for_the_lock_are_removed_with_it(tmp_path):
    loc = locate(str(tmp_path / "a" / "b"), "s")
    with study_lock(loc):
        assert (tmp_path / "a" / "b" / "s" / ".driver.lock").is_file()
    assert list(tmp_path.iterdir()) == []


def test_a_uri_has_no_lock(tmp_path):
    with study_lock(locate("s3://bucket/prefix", "s")):
        with study_lock(locate("s3://bucket/prefix", "s")):  # nothing to hold: the report finds a second writer
            pass


def test_a_storage_that_turns_read_only_keeps_the_file_and_drops_the_lock(tmp_path, monkeypatch):
    """Releasing must not replace the study's own error (a read-only storage) with one about the lock file."""
    loc = locate(str(tmp_path), "s")
    with pytest.raises(RuntimeError, match="the study's own error"):
        with study_lock(loc):
            monkeypatch.setattr(os, "unlink", lambda path: (_ for _ in ()).throw(OSError(30, "Read-only file system")))
            raise RuntimeError("the study's own error")
    monkeypatch.undo()
    assert (tmp_path / "s" / ".driver.lock").exists()
    with study_lock(loc):  # the lock itself went with its descriptor
        pass


def test_a_second_driver_through_a_symlink_or_a_second_mount_is_refused(tmp_path):
    """Issue 27, finding 2: the experiment folder reached from a second storage path through a symlink (or a bind
    mount of the same disk) was a second lock, two drivers ran, and the study was lost. The lock file is inside the
    folder: the same file however it is reached."""
    import subprocess

    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    (tmp_path / "first" / "s").mkdir()
    (tmp_path / "second" / "s").symlink_to(tmp_path / "first" / "s")
    with study_lock(locate(str(tmp_path / "first"), "s")):
        with pytest.raises(StudyInputError, match=r"another driver \(host \S+, pid \d+\) is running the study "):
            with study_lock(locate(str(tmp_path / "second"), "s")):
                pass
        if os.geteuid() == 0:
            mount = tmp_path / "mount"
            mount.mkdir()
            if subprocess.run(["mount", "--bind", str(tmp_path / "first"), str(mount)]).returncode == 0:
                try:
                    with pytest.raises(StudyInputError, match=r"another driver"):
                        with study_lock(locate(str(mount), "s")):
                            pass
                finally:
                    subprocess.run(["umount", str(mount)], check=True)
    assert sorted(p.name for p in (tmp_path / "first" / "s").iterdir()) == []  # released and removed
