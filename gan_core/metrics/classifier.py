"""The small classifier whose features and class posteriors score generated images.

Why a classifier trained on the dataset itself: Inception features (Heusel et al. 2017) are meant for natural
images and are expensive on a CPU; for MNIST-like data the usual offline practice is to score samples in the
feature space, and with the class posteriors, of a small network trained on the same data (a classifier FID and a
classifier Inception Score; the values are not comparable with Inception-based ones). A LeNet-sized net (LeCun et
al. 1998) is accurate enough on digits and costs milliseconds per batch, so evaluation stays a small share of a
trial.

The classifier is trained ONCE per (dataset, image size, ``CLASSIFIER_VERSION``) and cached on disk as a plain
state_dict (``torch.load(weights_only=True)``) with plain metadata (held-out accuracy, training time), in
``<cache>/classifiers`` (``gan_core.cache``: ``$GAN_STUDY_CACHE``, else ``~/.cache/gan_study``). Training runs
under a ``filelock.FileLock``: the study driver prepares it before any trial starts, and if several processes still
ask at once, one trains and the others wait and load its file. A file that is already there is read without the
lock (files are replaced atomically, so a reader never sees half of one), so a read-only cache that holds the
classifier works; one that cannot take a new file (not creatable, read-only, full) is
``gan_core.cache.CacheUnavailableError`` in one line, before any training.
"""
from __future__ import annotations

import io
import math
import os
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_core.cache import cache_dir as project_cache_dir
from gan_core.cache import check_room, unavailable
from gan_core.data import ImageData

__all__ = [
    "CACHE_SUBDIR",
    "CLASSIFIER_VERSION",
    "LeNet",
    "classifier_path",
    "load_or_train_classifier",
    "train_classifier",
    "classifier_accuracy",
]

# Bump when the architecture, the training recipe or the preprocessing changes: old cache files are then ignored.
CLASSIFIER_VERSION = 1
CACHE_SUBDIR = "classifiers"  # under the project's cache directory (gan_core.cache)
FILE_SLACK_BYTES = 2**16  # a cache file's zip container and metadata beside its float32 weights
CLASSIFIER_INPUT_SIZE = 32  # 64 px images are resized (antialiased) to 32 px before the classifier
FEATURE_DIM = 128  # the penultimate layer: the feature space of fd / precision / recall / density / coverage

# Training recipe (fixed: the classifier is a measuring instrument, not a tuned model); its held-out accuracy is
# in the classifier's metadata and docs/METRICS.md (Image datasets).
TRAIN_SEED = 0
TRAIN_EPOCHS = 5
TRAIN_BATCH = 64
TRAIN_LR = 2e-3
TRAIN_MAX_STEPS = 6000  # a cap on the cost for large datasets (mnist: 5 epochs = 4,685 steps of 64)
AUGMENT_SHIFT = 2  # random translation of up to +-2 px per image: the cheapest regulariser that helps on 4k digits


class LeNet(nn.Module):
    """LeNet-5-sized convnet: conv5-pool-conv5-pool-fc-fc.

    Input float32 [B, C, S, S] in [-1, 1] (S = 32 or 64; 64 is resized to 32). ``features(x)`` returns the
    penultimate activations [B, 128] (after ReLU); ``forward(x)`` the class logits [B, n_classes].
    """

    def __init__(self, channels: int = 1, n_classes: int = 10):
        super().__init__()
        self.channels = channels
        self.n_classes = n_classes
        self.conv1 = nn.Conv2d(channels, 16, 5)  # [B, C, 32, 32] -> [B, 16, 28, 28]
        self.conv2 = nn.Conv2d(16, 32, 5)  # [B, 16, 14, 14] -> [B, 32, 10, 10]
        self.fc1 = nn.Linear(32 * 5 * 5, FEATURE_DIM)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(FEATURE_DIM, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != CLASSIFIER_INPUT_SIZE:
            x = F.interpolate(x, size=(CLASSIFIER_INPUT_SIZE, CLASSIFIER_INPUT_SIZE), mode="bilinear",
                              align_corners=False, antialias=True)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # [B, 16, 28, 28] -> [B, 16, 14, 14]
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # [B, 32, 10, 10] -> [B, 32, 5, 5]
        x = x.flatten(1)  # [B, 32, 5, 5] -> [B, 800]
        return F.relu(self.fc1(x))  # [B, 128]

    def head(self, feats: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(feats))  # [B, n_classes]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def classifier_path(dataset: str, image_size: int, cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache file of the classifier for one dataset and image size, keyed by ``CLASSIFIER_VERSION``, in
    ``cache_dir`` (None: ``<$GAN_STUDY_CACHE or ~/.cache/gan_study>/classifiers``)."""
    root = Path(os.path.expanduser(str(cache_dir))) if cache_dir is not None else project_cache_dir(CACHE_SUBDIR)
    return root / f"{dataset}-{image_size}px-v{CLASSIFIER_VERSION}.pt"


def _random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by an integer offset in [-max_shift, max_shift]^2, filling with background (-1)."""
    if max_shift <= 0:
        return x
    b, _, s, _ = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)  # [B, C, S+2m, S+2m]
    offs = torch.randint(0, 2 * max_shift + 1, (2, b), generator=gen)  # row / column offsets per image
    rows = offs[0][:, None] + torch.arange(s)[None, :]  # [B, S]
    cols = offs[1][:, None] + torch.arange(s)[None, :]  # [B, S]
    idx_b = torch.arange(b)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[idx_b, rows[:, :, None], cols[:, None, :]]  # [B, S, S, C]
    return out.permute(0, 3, 1, 2).contiguous()  # [B, C, S, S]


@torch.no_grad()
def classifier_accuracy(model: nn.Module, images_u8: torch.Tensor, labels: torch.Tensor,
                        batch_size: int = 1000) -> float:
    """Top-1 accuracy of ``model`` on uint8 images [N, C, S, S] with int64 labels [N]."""
    was_training = model.training
    model.eval()
    correct = 0
    for i in range(0, images_u8.shape[0], batch_size):
        x = ImageData.to_float(images_u8[i:i + batch_size])
        correct += int((model(x).argmax(1) == labels[i:i + batch_size]).sum())
    model.train(was_training)
    return correct / max(1, images_u8.shape[0])


def train_classifier(train_u8: torch.Tensor, train_labels: torch.Tensor, n_classes: int = 10,
                     seed: int = TRAIN_SEED, epochs: int = TRAIN_EPOCHS, max_steps: int = TRAIN_MAX_STEPS,
                     device: torch.device | str = "cpu") -> LeNet:
    """Train a LeNet on uint8 images [N, C, S, S] (Adam, cosine-decayed lr, random +-2 px shifts).

    Deterministic for a given seed: the init, the batch order, the shifts and dropout come from ``seed``, the
    global torch RNG is left untouched, and training runs on one CPU thread (restored afterwards).
    """
    if train_u8.dtype != torch.uint8 or train_u8.ndim != 4:
        raise ValueError(f"train images must be uint8 [N, C, S, S], got {train_u8.dtype} {tuple(train_u8.shape)}")
    n = train_u8.shape[0]
    if n < TRAIN_BATCH or train_labels.shape != (n,):
        raise ValueError(f"need at least {TRAIN_BATCH} images with one label each, got {n} images and labels "
                         f"of shape {tuple(train_labels.shape)}")
    device = torch.device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LeNet(train_u8.shape[1], n_classes)
    model.to(device).train()
    gen = torch.Generator().manual_seed(seed)
    steps_per_epoch = n // TRAIN_BATCH
    total = min(max_steps, epochs * steps_per_epoch)
    opt = torch.optim.Adam(model.parameters(), lr=TRAIN_LR)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    threads = torch.get_num_threads()
    # One CPU thread: batches of 64 through a LeNet are too small to gain from more, and on a busy machine
    # OpenMP's spin-waiting makes 2 threads many times slower than 1.
    torch.set_num_threads(1)
    try:
        _train_loop(model, opt, sched, train_u8, train_labels, gen, seed, steps_per_epoch, total, device)
    finally:
        torch.set_num_threads(threads)
    return model.eval()


def _train_loop(model, opt, sched, train_u8, train_labels, gen, seed, steps_per_epoch, total, device) -> None:
    n = train_u8.shape[0]
    step = 0
    with torch.random.fork_rng(devices=[]):  # dropout draws from the global RNG: keep it seeded and local
        torch.manual_seed(seed + 1)
        while step < total:
            perm = torch.randperm(n, generator=gen)
            for i in range(steps_per_epoch):
                if step >= total:
                    break
                idx = perm[i * TRAIN_BATCH:(i + 1) * TRAIN_BATCH]
                x = ImageData.to_float(train_u8[idx.to(train_u8.device)]).cpu()  # [B, C, S, S] in [-1, 1]
                x = _random_shift(x, AUGMENT_SHIFT, gen).to(device)
                y = train_labels[idx.to(train_labels.device)].to(device)
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                step += 1


def load_or_train_classifier(data, cache_dir: str | os.PathLike | None = None,
                             device: torch.device | str = "cpu") -> tuple[LeNet, dict]:
    """The cached classifier of an ``ImageData`` (trained and saved first if absent), and its metadata.

    The file is ``<cache_dir>/<dataset>-<S>px-v<CLASSIFIER_VERSION>.pt`` holding ``{"state_dict", "meta"}``;
    ``meta`` has ``dataset``, ``image_size``, ``channels``, ``n_classes``, ``version``, ``heldout_accuracy``,
    ``train_accuracy`` and ``train_time_s``. A file that cannot be read or does not match is retrained.
    ``gan_core.cache.CacheUnavailableError`` (one line) when the classifier must be trained and the directory
    cannot take its file: checked before training, and again when the file is written.
    """
    path = classifier_path(data.name, data.image_size, cache_dir)
    want = {"dataset": data.name, "image_size": int(data.image_size), "channels": int(data.channels),
            "n_classes": int(data.n_classes), "version": CLASSIFIER_VERSION}
    loaded = _try_load(path, want)  # without the lock: a read-only cache that holds the file is enough
    if loaded is not None:
        model, meta = loaded
        return model.to(device).eval(), meta

    from filelock import FileLock

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path) + ".lock")
        lock.acquire()
    except OSError as e:
        raise unavailable(path.parent, e) from None
    try:
        loaded = _try_load(path, want)  # another process may have trained it while this one waited
        if loaded is not None:
            model, meta = loaded
            return model.to(device).eval(), meta
        check_room(path.parent, _file_bytes(want))
        t0 = time.perf_counter()
        images, labels = data.whole_train_split()  # one classifier per dataset, whatever its validation_split
        model = train_classifier(images, labels, data.n_classes, device=device)
        train_time = time.perf_counter() - t0
        meta = dict(want)
        meta["heldout_accuracy"] = classifier_accuracy(model, data.heldout.to(device), data.heldout_labels.to(device))
        meta["train_accuracy"] = classifier_accuracy(model, images.to(device), labels.to(device))
        meta["train_time_s"] = train_time
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        _write_atomically(path, {"state_dict": state, "meta": meta})
    finally:
        lock.release()
    return model.eval(), meta


def _file_bytes(want: dict) -> int:
    """The size of a classifier's cache file, about: its float32 weights and the container's slack."""
    with torch.device("meta"):
        n = sum(p.numel() for p in LeNet(want["channels"], want["n_classes"]).parameters())
    return 4 * n + FILE_SLACK_BYTES


def _write_atomically(path: Path, blob: dict) -> None:
    """``torch.save`` to a temporary file beside ``path``, then renamed over it: a reader never sees half a file.
    Serialised in memory first, so a failed write is a plain OSError (torch's zip writer reports one as a
    RuntimeError), and a failed write leaves no temporary file behind."""
    buffer = io.BytesIO()
    torch.save(blob, buffer)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(buffer.getbuffer())
        os.replace(tmp, path)
    except OSError as e:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise unavailable(path.parent, e) from None


def _try_load(path: Path, want: dict) -> tuple[LeNet, dict] | None:
    try:
        if not path.is_file():
            return None
    except OSError:  # e.g. a directory on the way that this user may not enter: as good as absent
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        meta = dict(blob["meta"])
        if any(meta.get(k) != v for k, v in want.items()):
            return None
        model = LeNet(want["channels"], want["n_classes"])
        model.load_state_dict(blob["state_dict"])
    except Exception:  # a torn or foreign file: retrain and overwrite it
        return None
    return model.eval(), meta
