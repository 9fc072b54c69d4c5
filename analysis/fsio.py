"""Read and write a results directory wherever it lives: a local path, ``file://`` or ``s3://`` (any URI pyarrow knows).

Why pyarrow.fs: Ray Tune itself stores experiments through pyarrow filesystems, so the same URIs that a study's
``storage_path`` accepts open here, with one code path for local and remote copies. Nothing here unpickles: the
analysis reads JSON, CSV and text only (checkpoints are handed to ``gan_core.checkpoint`` as a local file).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from pyarrow import fs as pafs


class ResultsError(ValueError):
    """Input that is not an analysable results directory; the message is one line that says what to do."""


@dataclass(frozen=True)
class Location:
    """A path inside one filesystem, plus the text the user gave (for messages)."""

    fs: pafs.FileSystem
    path: str
    uri: str

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, pafs.LocalFileSystem)

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    def join(self, *parts: str) -> "Location":
        path = "/".join([self.path.rstrip("/"), *parts])
        uri = "/".join([self.uri.rstrip("/"), *parts])
        return Location(self.fs, path, uri)

    def _info(self) -> pafs.FileInfo:
        return self.fs.get_file_info(self.path)

    def exists(self) -> bool:
        return self._info().type != pafs.FileType.NotFound

    def is_dir(self) -> bool:
        return self._info().type == pafs.FileType.Directory

    def is_file(self) -> bool:
        return self._info().type == pafs.FileType.File

    def children(self) -> list[pafs.FileInfo]:
        """Direct entries of this directory (not recursive: a study holds thousands of checkpoint files)."""
        infos = self.fs.get_file_info(pafs.FileSelector(self.path, allow_not_found=True, recursive=False))
        return sorted(infos, key=lambda i: i.base_name)

    def read_bytes(self) -> bytes:
        with self.fs.open_input_stream(self.path) as f:
            return f.read()

    def read_text(self) -> str:
        return self.read_bytes().decode("utf-8", errors="replace")

    def local_copy(self, tmp_dir: str | os.PathLike) -> Path:
        """A local path holding this file: itself when local, else a download into ``tmp_dir``."""
        if self.is_local:
            return Path(self.path)
        target = Path(tmp_dir) / self.name
        with self.fs.open_input_stream(self.path) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return target


def resolve(path_or_uri: str | os.PathLike, filesystem: pafs.FileSystem | None = None) -> Location:
    """Open a path or URI with ``pyarrow.fs.FileSystem.from_uri`` (plain paths are made absolute first)."""
    text = os.fspath(path_or_uri)
    if filesystem is not None:
        return Location(filesystem, text, text)
    target = text if "://" in text else os.path.abspath(os.path.expanduser(text))
    try:
        fs, path = pafs.FileSystem.from_uri(target)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise ResultsError(f"cannot open {text!r}: {_first_line(e)}") from None
    return Location(fs, path, text)


def publish(local_dir: Path, dest: Location) -> None:
    """Copy a finished local report folder to ``dest`` (used when the output is on a remote filesystem)."""
    dest.fs.create_dir(dest.path, recursive=True)
    pafs.copy_files(str(local_dir), dest.path, source_filesystem=pafs.LocalFileSystem(),
                    destination_filesystem=dest.fs)


def staging_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="gan-study-report-")


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
