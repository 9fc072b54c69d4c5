"""The storage guard: it stops a study before a local disk is too full for the next checkpoints and the state."""
from __future__ import annotations

import signal
from types import SimpleNamespace

import pyarrow.fs as pafs
import pytest

from studies import storage
from studies.cli import StudyStorageError
from studies.experiment_dir import ExperimentDir


def _checkpoint(tmp_path, size):
    folder = tmp_path / "exp" / "trial_a" / "checkpoint_000001"
    folder.mkdir(parents=True)
    (folder / "state.pt").write_bytes(b"x" * size)
    return SimpleNamespace(filesystem=pafs.LocalFileSystem(), path=str(folder)), str(tmp_path / "exp")


def _free(monkeypatch, free):
    monkeypatch.setattr(storage.shutil, "disk_usage", lambda path: SimpleNamespace(free=free))


def test_enough_room_for_every_running_trials_next_checkpoint_and_one_more_is_fine(tmp_path, monkeypatch):
    checkpoint, experiment = _checkpoint(tmp_path, 1000)
    trials = [SimpleNamespace(status="RUNNING")] * 2 + [SimpleNamespace(status="TERMINATED")]
    _free(monkeypatch, 3 * 1000 + storage.STORAGE_RESERVE_EXTRA)  # (2 running + 1) x the largest + the extra
    storage.StorageGuard().on_checkpoint(0, trials, trials[0], checkpoint)
    assert experiment not in storage.STORAGE_PROBLEMS


def test_one_byte_less_stops_the_study_as_ctrl_c_does_and_says_why_in_one_line(tmp_path, monkeypatch):
    checkpoint, experiment = _checkpoint(tmp_path, 1000)
    trials = [SimpleNamespace(status="RUNNING")] * 2
    _free(monkeypatch, 3 * 1000 + storage.STORAGE_RESERVE_EXTRA - 1)
    sent = []
    monkeypatch.setattr(storage.signal, "getsignal", lambda sig: (lambda *a: None))
    monkeypatch.setattr(storage.os, "kill", lambda pid, sig: sent.append(sig))
    storage.StorageGuard().on_checkpoint(0, trials, trials[0], checkpoint)
    assert sent == [signal.SIGUSR1]
    assert storage.STORAGE_PROBLEMS[experiment].startswith(f"the storage path {str(tmp_path)!r} is nearly full: ")
    with pytest.raises(StudyStorageError, match=r"is nearly full: .*; the study stopped, keeping every trial's last "
                                                r"saved checkpoint: make room there \(or fix it\), then continue "
                                                r"with --resume") as err:
        storage.raise_if_storage_problem(ExperimentDir(str(tmp_path), experiment))
    assert "\n" not in str(err.value)
    assert experiment not in storage.STORAGE_PROBLEMS  # said once


def test_a_uri_is_rays_to_check():
    checkpoint = SimpleNamespace(filesystem=object(), path="bucket/exp/trial/checkpoint_000001")
    storage.StorageGuard().on_checkpoint(0, [], None, checkpoint)
    assert "bucket/exp" not in storage.STORAGE_PROBLEMS
