"""The cached classifier: accuracy on mnist5k, one training per cache key, a file lock, safe reload, the cache in
GAN_STUDY_CACHE, read-only and full caches."""
from __future__ import annotations

import subprocess
import threading

import pytest
import torch

from gan_core.data import ImageData
from gan_core.cache import CACHE_ENV, CacheUnavailableError
from gan_core.metrics import classifier as clf


def test_mnist5k_classifier_reaches_95_percent_heldout_accuracy(mnist_evaluator, mnist_data):
    meta = mnist_evaluator.classifier_meta
    assert meta["dataset"] == "mnist5k" and meta["image_size"] == 32 and meta["version"] == clf.CLASSIFIER_VERSION
    assert mnist_evaluator.classifier_accuracy >= 0.95
    # the stored accuracy is the classifier's real accuracy on the held-out split, not a number from elsewhere
    measured = clf.classifier_accuracy(mnist_evaluator.classifier, mnist_data.heldout, mnist_data.heldout_labels)
    assert measured == pytest.approx(mnist_evaluator.classifier_accuracy, abs=1e-12)


def test_cache_file_is_keyed_by_dataset_size_and_version(tmp_path):
    p = clf.classifier_path("mnist5k", 64, tmp_path)
    assert p == tmp_path / f"mnist5k-64px-v{clf.CLASSIFIER_VERSION}.pt"
    assert clf.classifier_path("cifar10", 32, tmp_path) != clf.classifier_path("cifar10", 64, tmp_path)


def test_cached_classifier_is_loaded_not_retrained(mnist_evaluator, mnist_data, classifier_cache, monkeypatch):
    def no_training(*a, **kw):
        raise AssertionError("the classifier was retrained although it is cached")

    monkeypatch.setattr(clf, "train_classifier", no_training)
    model, meta = clf.load_or_train_classifier(mnist_data, classifier_cache)
    assert meta == mnist_evaluator.classifier_meta
    for (k, v), (k2, v2) in zip(model.state_dict().items(), mnist_evaluator.classifier.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    # the file holds plain tensors and metadata: loadable with weights_only=True
    blob = torch.load(clf.classifier_path("mnist5k", 32, classifier_cache), weights_only=True)
    assert set(blob) == {"state_dict", "meta"}


class _TinyData(ImageData):
    """A tiny ImageData: 64 random 32 px images, two classes."""

    def __init__(self, name: str = "tiny"):
        g = torch.Generator().manual_seed(0)
        train = torch.randint(0, 256, (64, 1, 32, 32), dtype=torch.uint8, generator=g)
        labels = torch.arange(64) % 2
        super().__init__(name, train, labels, train[:16], labels[:16])


def _count_training(monkeypatch):
    calls = []

    def fake_train(train_u8, labels, n_classes=10, **kw):
        calls.append(1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(len(calls))
            return clf.LeNet(train_u8.shape[1], n_classes).eval()

    monkeypatch.setattr(clf, "train_classifier", fake_train)
    return calls


def test_corrupt_or_foreign_cache_file_is_retrained(tmp_path, monkeypatch):
    calls = _count_training(monkeypatch)
    data = _TinyData()
    path = clf.classifier_path("tiny", 32, tmp_path)
    path.write_bytes(b"not a torch file")
    clf.load_or_train_classifier(data, tmp_path)
    assert len(calls) == 1
    clf.load_or_train_classifier(data, tmp_path)  # now valid: loaded
    assert len(calls) == 1
    blob = torch.load(path, weights_only=True)
    blob["meta"]["version"] = clf.CLASSIFIER_VERSION - 1  # an old version's file under the current name
    torch.save(blob, path)
    clf.load_or_train_classifier(data, tmp_path)
    assert len(calls) == 2


def test_a_validation_split_trains_the_same_classifier_on_the_whole_training_split(tmp_path, monkeypatch):
    """validation_split holds images out of the GAN's training, not the scorer's: one classifier per dataset."""
    seen = []
    monkeypatch.setattr(clf, "train_classifier", lambda u8, labels, n_classes=10, **kw: (
        seen.append((u8.clone(), labels.clone())), clf.LeNet(u8.shape[1], n_classes).eval())[1])
    whole = _TinyData()
    split = ImageData("tiny", whole.train[:40], whole.train_labels[:40], whole.heldout, whole.heldout_labels,
                      validation=(whole.train[40:], whole.train_labels[40:]))
    _, meta = clf.load_or_train_classifier(split, tmp_path)
    (images, labels), = seen
    assert torch.equal(images, whole.train) and torch.equal(labels, whole.train_labels)
    assert clf.load_or_train_classifier(whole, tmp_path)[1] == meta and len(seen) == 1  # the same cached file


def test_concurrent_callers_train_once(tmp_path, monkeypatch):
    calls = _count_training(monkeypatch)
    data = _TinyData()
    results = []
    threads = [threading.Thread(target=lambda: results.append(clf.load_or_train_classifier(data, tmp_path)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(results) == 4
    assert len({r[1]["heldout_accuracy"] for r in results}) == 1


def test_lenet_shapes_at_32_and_64_px():
    net = clf.LeNet(3, 10)
    for s in (32, 64):
        x = torch.zeros(5, 3, s, s)
        assert net.features(x).shape == (5, clf.FEATURE_DIM)
        assert net(x).shape == (5, 10)


def test_random_shift_moves_images_within_bounds():
    g = torch.Generator().manual_seed(0)
    x = torch.full((8, 1, 32, 32), -1.0)
    x[:, :, 15, 15] = 1.0  # one bright pixel in the middle
    y = clf._random_shift(x, 2, g)
    assert y.shape == x.shape
    for img in y[:, 0]:
        r, c = (img == 1.0).nonzero()[0].tolist()
        assert abs(r - 15) <= 2 and abs(c - 15) <= 2
        assert int((img == 1.0).sum()) == 1


def test_train_classifier_rejects_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        clf.train_classifier(torch.zeros(100, 1, 32, 32), torch.zeros(100, dtype=torch.long))
    with pytest.raises(ValueError, match="at least"):
        clf.train_classifier(torch.zeros(10, 1, 32, 32, dtype=torch.uint8), torch.zeros(10, dtype=torch.long))


def test_the_cache_is_gan_study_cache_classifiers(tmp_path, monkeypatch):
    calls = _count_training(monkeypatch)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    path = tmp_path / "cache" / "classifiers" / f"tiny-32px-v{clf.CLASSIFIER_VERSION}.pt"
    assert clf.classifier_path("tiny", 32) == path
    clf.load_or_train_classifier(_TinyData())  # cache_dir None: the project's cache
    assert path.is_file() and len(calls) == 1


def test_a_cache_under_a_regular_file_is_one_line_before_any_training(tmp_path, monkeypatch):
    calls = _count_training(monkeypatch)
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    with pytest.raises(CacheUnavailableError) as e:
        clf.load_or_train_classifier(_TinyData())
    assert str(e.value) == (f"cache directory '{blocker}/cache/classifiers' cannot be written (Not a directory); "
                            f"allowed: a writable directory in GAN_STUDY_CACHE")
    assert calls == []


def _remount(mnt, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mnt)], check=True)


def test_a_read_only_cache_serves_the_classifier_it_holds_and_refuses_a_new_one(tmpfs, monkeypatch):
    """A real read-only filesystem (root ignores a directory's permission bits)."""
    calls = _count_training(monkeypatch)
    monkeypatch.setenv(CACHE_ENV, str(tmpfs))
    _, meta = clf.load_or_train_classifier(_TinyData())
    _remount(tmpfs, "ro")
    try:
        assert clf.load_or_train_classifier(_TinyData())[1] == meta and len(calls) == 1  # read, not trained
        with pytest.raises(CacheUnavailableError) as e:
            clf.load_or_train_classifier(_TinyData("other"))
    finally:
        _remount(tmpfs, "rw")
    assert str(e.value) == (f"cache directory '{tmpfs}/classifiers' cannot be written (Read-only file system); "
                            f"allowed: a writable directory in GAN_STUDY_CACHE")
    assert len(calls) == 1


def test_a_full_cache_is_refused_before_training_and_a_failed_write_leaves_nothing(tmpfs, monkeypatch):
    calls = _count_training(monkeypatch)
    monkeypatch.setenv(CACHE_ENV, str(tmpfs))
    (tmpfs / "classifiers").mkdir()
    with open(tmpfs / "filler", "wb") as f:  # fill the 64 MB filesystem
        try:
            f.write(bytes(65 * 2**20))
        except OSError:
            pass
    with pytest.raises(CacheUnavailableError) as e:
        clf.load_or_train_classifier(_TinyData())
    assert str(e.value).startswith(f"cache directory '{tmpfs}/classifiers' cannot be written (No space left on "
                                   f"device: ")
    assert str(e.value).endswith(" needed); allowed: a writable directory in GAN_STUDY_CACHE")
    assert calls == []
    # where the room was there when checked but not when written: the same line, and no temporary file left
    monkeypatch.setattr(clf, "check_room", lambda directory, need: None)
    with pytest.raises(CacheUnavailableError) as e:
        clf.load_or_train_classifier(_TinyData())
    assert str(e.value) == (f"cache directory '{tmpfs}/classifiers' cannot be written (No space left on device); "
                            f"allowed: a writable directory in GAN_STUDY_CACHE")
    assert len(calls) == 1
    assert sorted(p.name for p in (tmpfs / "classifiers").iterdir()) == [f"tiny-32px-v{clf.CLASSIFIER_VERSION}.pt.lock"]
