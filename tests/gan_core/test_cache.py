"""gan_core.cache: the project's cache directory from GAN_STUDY_CACHE, and its one-line error."""
from __future__ import annotations

import pytest

from gan_core.cache import CACHE_ENV, CacheUnavailableError, cache_dir, cache_root, check_room, unavailable


def test_the_cache_is_gan_study_cache_when_set_else_under_the_home(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "gan_study"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    assert (cache_root(), cache_dir("classifiers")) == (tmp_path / "cache", tmp_path / "cache" / "classifiers")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CACHE_ENV, "relative")  # made absolute where it is read
    assert cache_root() == tmp_path / "relative"
    monkeypatch.setenv(CACHE_ENV, "~/elsewhere")
    assert cache_root() == tmp_path / "home" / "elsewhere"
    assert not (tmp_path / "cache").exists()  # naming a directory creates nothing


def test_an_empty_gan_study_cache_is_refused_in_one_line(monkeypatch):
    monkeypatch.setenv(CACHE_ENV, "")
    with pytest.raises(CacheUnavailableError) as e:
        cache_root()
    assert str(e.value) == ("GAN_STUDY_CACHE is set but empty; allowed: a writable directory in GAN_STUDY_CACHE (or "
                            "unset it for ~/.cache/gan_study)")
    assert isinstance(e.value, ValueError)  # the command lines' one line and exit 2


def test_a_cache_without_room_or_access_is_one_line_naming_the_directory(tmp_path):
    with pytest.raises(CacheUnavailableError) as e:
        check_room(tmp_path, 2**80)
    message = str(e.value)
    assert message.startswith(f"cache directory '{tmp_path}' cannot be written (No space left on device: ")
    assert message.endswith(f" bytes free, {2**80:,} needed); allowed: a writable directory in GAN_STUDY_CACHE")
    check_room(tmp_path, 1)
    assert str(unavailable(tmp_path / "x", PermissionError(13, "Permission denied"))) == (
        f"cache directory '{tmp_path / 'x'}' cannot be written (Permission denied); allowed: a writable directory in "
        f"GAN_STUDY_CACHE")
