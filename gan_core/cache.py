"""The project's cache directory: what gan_study computes once and reuses (the classifiers that score images, in
``<cache>/classifiers``).

Where: the environment variable ``GAN_STUDY_CACHE`` when it is set (``~`` expanded, made absolute), else
``~/.cache/gan_study``. Why an environment variable: the default is not writable everywhere (a read-only home, a
container, a node whose home is a slow network mount), and where a cache lives is a property of the machine, not
of a run, so it belongs neither in a config nor in every command line. Set but empty is refused rather than read as
the default: it is a mistake, and the default would silently write where the user meant not to.

A cache that cannot take a file (it cannot be created, it is read-only or not a directory, it is full) is a
``CacheUnavailableError``: one line naming the directory, the OS error and what is allowed. It is a ValueError,
so the command lines that print bad input as one line and exit 2 treat it the same way. A read-only cache that
already holds what is asked for is read and never written.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["CACHE_ENV", "DEFAULT_CACHE_ROOT", "CacheUnavailableError", "cache_dir", "cache_root", "check_room",
           "unavailable"]

CACHE_ENV = "GAN_STUDY_CACHE"
DEFAULT_CACHE_ROOT = "~/.cache/gan_study"
ALLOWED = f"allowed: a writable directory in {CACHE_ENV}"


class CacheUnavailableError(ValueError):
    """The cache directory cannot be created or written (read-only, not a directory, full); the message is one
    line naming the directory, the OS error and ``GAN_STUDY_CACHE``."""


def cache_root() -> Path:
    """The project's cache directory: ``$GAN_STUDY_CACHE``, else ``~/.cache/gan_study`` (read at each call)."""
    if CACHE_ENV in os.environ:
        value = os.environ[CACHE_ENV]
        if not value.strip():
            raise CacheUnavailableError(f"{CACHE_ENV} is set but empty; {ALLOWED} (or unset it for "
                                        f"{DEFAULT_CACHE_ROOT})")
    else:
        value = DEFAULT_CACHE_ROOT
    return Path(os.path.abspath(os.path.expanduser(value)))


def cache_dir(name: str) -> Path:
    """``<cache root>/<name>``, e.g. ``cache_dir("classifiers")``; nothing is created."""
    return cache_root() / name


def unavailable(directory: str | os.PathLike, error: OSError | str) -> CacheUnavailableError:
    """The one-line error for a cache directory that cannot take a file, from the OSError that said so."""
    why = error if isinstance(error, str) else (error.strerror or str(error))
    return CacheUnavailableError(f"cache directory {str(directory)!r} cannot be written ({why}); {ALLOWED}")


def check_room(directory: str | os.PathLike, need: int) -> None:
    """CacheUnavailableError unless ``directory`` (which exists) has ``need`` bytes free: checked before the work
    whose result is to be cached, so that a full disk costs no wasted work."""
    try:
        free = shutil.disk_usage(directory).free
    except OSError as e:
        raise unavailable(directory, e) from None
    if free < need:
        raise unavailable(directory, f"No space left on device: {free:,} bytes free, {need:,} needed")
