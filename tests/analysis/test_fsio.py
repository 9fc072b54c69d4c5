"""One reader for local paths and URIs: file:// and a non-local (in-memory, fsspec) filesystem behave alike."""
import fsspec
import pytest
from pyarrow import fs as pafs

from analysis.fsio import ResultsError, publish, resolve
from analysis.load import read_study


def memory_fs_with(local_dir, name):
    """Copy a local experiment into an fsspec in-memory filesystem seen through pyarrow (a stand-in for s3)."""
    mem = fsspec.filesystem("memory")
    mem.store.clear()
    mem.pseudo_dirs.clear()
    mem.pseudo_dirs.append("")
    fs = pafs.PyFileSystem(pafs.FSSpecHandler(mem))
    pafs.copy_files(str(local_dir), f"/bucket/{name}", source_filesystem=pafs.LocalFileSystem(),
                    destination_filesystem=fs)
    return fs


def test_plain_path_and_file_uri_read_the_same(ablation_dir):
    a = read_study(str(ablation_dir))
    b = read_study(ablation_dir.as_uri())
    assert b.location.uri.startswith("file://")
    assert a.trials.equals(b.trials)


def test_a_non_local_filesystem_reads_like_a_local_one(ablation_dir):
    fs = memory_fs_with(ablation_dir, "ablation")
    remote = read_study("/bucket/ablation", filesystem=fs)
    assert not remote.location.is_local
    local = read_study(str(ablation_dir))
    assert remote.trials["final_fd"].tolist() == pytest.approx(local.trials["final_fd"].tolist(), nan_ok=True)
    assert remote.trials["status"].tolist() == local.trials["status"].tolist()


def test_local_copy_downloads_a_remote_file(ablation_dir, tmp_path):
    fs = memory_fs_with(ablation_dir, "ablation")
    loc = resolve("/bucket/ablation", fs).join("study.json")
    copy = loc.local_copy(tmp_path)
    assert copy == tmp_path / "study.json"
    assert copy.read_text() == (ablation_dir / "study.json").read_text()


def test_publish_copies_a_folder_to_a_remote_filesystem(ablation_dir, tmp_path):
    fs = memory_fs_with(ablation_dir, "ablation")
    (tmp_path / "rep" / "plots").mkdir(parents=True)
    (tmp_path / "rep" / "report.md").write_text("# hi")
    (tmp_path / "rep" / "plots" / "a.png").write_bytes(b"png")
    dest = resolve("/bucket/ablation/report", fs)
    publish(tmp_path / "rep", dest)
    assert dest.join("report.md").read_text() == "# hi"
    assert dest.join("plots", "a.png").read_bytes() == b"png"


def test_unknown_scheme_is_one_clear_line():
    with pytest.raises(ResultsError, match=r"^cannot open 'nosuchfs://bucket/x': "):
        resolve("nosuchfs://bucket/x")
