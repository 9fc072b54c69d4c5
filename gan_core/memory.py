"""How much memory one run of a config needs, estimated before anything is allocated, and the check against the
machine.

Why: one value sized like a memory bomb (``nz=100000000``: a 12.8-billion-weight first layer) used to end in an
allocation traceback at best and in the kernel's OOM killer at worst, which can take neighbouring jobs with it;
inside a study, Ray retried it until its failures ran out. The estimate is made on torch's ``meta`` device (shapes
without storage), so it costs milliseconds and no memory, and a refused config is one line before any tensor exists.

What is counted, in bytes: the parameters of G and D with their gradients and both Adam moments (4 float32
copies); the activations of one training step (G's forward for a batch, and D's for a real and a fake batch, kept
for the backward pass, which needs about as much again); one evaluation at its real size (below); the image
dataset, held whole as uint8, and the image evaluator's held-out reference features. A training step and an
evaluation never hold their arrays at the same time, so the larger of the two counts. Small terms (the classifier's
weights, BatchNorm statistics, Python) are covered by ``HEADROOM``. The cap is the memory the machine has available
now (``MemAvailable``; on CUDA the device's free memory), never a constant, and a study divides it by the trials
that run side by side on the machine.

One evaluation (``gan_core.metrics.evaluator``) holds, on n samples (``eval_samples``; for images at most the
held-out set, which is what the image evaluator scores): the trainer's fixed noise [n, nz]; G's samples (one
tensor, filled batch by batch); G's activations for one batch; and what its metrics hold at once, counted as if
all of it were alive together (an upper bound, and near it: each evaluator keeps its arrays until it returns):
- images: the classifier's activations for one batch (and as much again for the functional ReLU and pooling
  between its layers), the features [n, 128] and logits [n, 10], feature_stats' float64 copy and centred copy,
  one chunk of the k-NN distance matrix (``features._CHUNK`` rows x n, float32, with its boolean masks: a chunk,
  never the O(n^2) whole), and the class metrics' float64 posteriors (softmax, log-softmax and their products:
  ``CLASS_POSTERIOR_ARRAYS`` arrays [n, 10]);
- ring8 / grid25: float64 copies of the points (for the mode metrics and for the spread), the distance of every
  point to every mode [n, M], the nearest distance and index, the high-quality mask and its indices;
- gauss1d: the affine evaluator reads G's two parameters and nothing more; ``jsd_estimate`` (any other G) holds
  ``JSD_ESTIMATE_ARRAYS`` float64 arrays of n values at once (the samples, their grid positions, their grid
  indices, the linear-binning weights, 1 - weights, the next indices).
Every term is linear in n (the k-NN chunk has a fixed number of rows, and images stop at the held-out size), so the
estimate means the same at any eval_samples and needs no upper bound of its own: what does not fit is refused.
Not counted: the Parzen window of ``build_evaluator(parzen_samples=...)`` and the Inception FID, which are options
of the evaluator, not keys of the config.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn

from gan_core.config import GANConfig

FLOAT_BYTES = 4
DOUBLE_BYTES = 8
PARAMETER_COPIES = 4  # weights, gradients, Adam's first and second moments
BACKWARD_FACTOR = 2   # the backward pass needs about as much again as the activations it reads
EVAL_BATCH = 500      # gan_core.metrics.evaluator_base.EVAL_BATCH: G's and the classifier's batch in an evaluation
HEADROOM = 1.25       # what the estimate leaves out: the classifier, buffers, the allocator's slack
IMAGES_PER_DATASET = {"mnist5k": 5000, "mnist": 70000, "fashion_mnist": 70000, "cifar10": 60000}
# The held-out split of each image dataset (gan_core.data: mnist5k keeps 100 digits of each class; the others
# their test split): the most samples the image evaluator scores, whatever eval_samples asks.
HELDOUT_PER_DATASET = {"mnist5k": 1000, "mnist": 10000, "fashion_mnist": 10000, "cifar10": 10000}
JSD_ESTIMATE_ARRAYS = 6  # float64 arrays of n values alive at once in gauss1d's jsd_estimate (module docstring)
CLASS_POSTERIOR_ARRAYS = 4  # float64 [n, classes] arrays of the class metrics: softmax, log-softmax, exp, product


@dataclass(frozen=True)
class MemoryEstimate:
    parameters: int        # G's and D's parameter count
    parameter_bytes: int   # with gradients and Adam state
    activation_bytes: int  # one training step, forward and backward
    evaluation_bytes: int  # one evaluation of evaluation_samples samples: noise, samples, G's batch, the metrics
    data_bytes: int        # the image dataset as uint8, and the image evaluator's held-out reference
    evaluation_samples: int  # n, the samples one evaluation scores (eval_samples; images: at most the held-out)

    @property
    def total(self) -> int:
        peak = self.parameter_bytes + max(self.activation_bytes, self.evaluation_bytes) + self.data_bytes
        return int(HEADROOM * peak)


def _forward_numel(net: nn.Module, x: torch.Tensor) -> tuple[int, torch.Tensor]:
    """(summed numel of every leaf module's output, the net's output) for a meta input."""
    total = 0

    def count(_module, _inputs, output):
        nonlocal total
        if isinstance(output, torch.Tensor):
            total += output.numel()

    hooks = [m.register_forward_hook(count) for m in net.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            out = net(x)
    finally:
        for h in hooks:
            h.remove()
    return total, out


def evaluation_samples(cfg: GANConfig) -> int:
    """n, the samples one evaluation of ``cfg`` generates and scores: ``eval_samples``, and for images at most the
    held-out set (the image evaluator's ``n_samples``)."""
    if cfg.is_image:
        return min(cfg.eval_samples, HELDOUT_PER_DATASET[cfg.dataset])
    return cfg.eval_samples


def _metric_bytes(cfg: GANConfig, n: int) -> int:
    """What the evaluator's metrics hold at once on n generated samples (module docstring), in bytes."""
    if cfg.is_image:
        from gan_core.metrics.classifier import FEATURE_DIM, LeNet
        from gan_core.metrics.features import _CHUNK

        classes = 10  # every image dataset here has 10 classes (ImageData.n_classes)
        with torch.device("meta"):
            batch = min(EVAL_BATCH, n)
            classifier, _ = _forward_numel(LeNet(cfg.channels, classes),
                                           torch.empty(batch, cfg.channels, cfg.image_size, cfg.image_size))
        features = FLOAT_BYTES * n * (FEATURE_DIM + classes)
        stats = 2 * DOUBLE_BYTES * n * FEATURE_DIM                # feature_stats: float64 copy, centred copy
        knn = 2 * FLOAT_BYTES * min(_CHUNK, n) * n                 # a chunk of distances, with its boolean masks
        posteriors = CLASS_POSTERIOR_ARRAYS * DOUBLE_BYTES * n * classes
        return 2 * FLOAT_BYTES * classifier + features + stats + knn + posteriors
    if cfg.dataset in ("ring8", "grid25"):
        from gan_core.data import mixture_spec

        modes = len(mixture_spec(cfg.dataset)[0])
        # float64 points twice (modes, spread), distances to every mode, nearest distance and index, the
        # high-quality mask (1 byte) and its indices
        return n * (2 * 2 * DOUBLE_BYTES + modes * DOUBLE_BYTES + 2 * DOUBLE_BYTES + 1 + DOUBLE_BYTES)
    if cfg.arch == "affine":
        return 0  # the exact JSD reads G's two parameters
    return JSD_ESTIMATE_ARRAYS * DOUBLE_BYTES * n


def estimate(cfg: GANConfig) -> MemoryEstimate:
    """The memory one run of ``cfg`` needs (see the module docstring); allocates nothing."""
    from gan_core.models import build_discriminator, build_generator

    n = evaluation_samples(cfg)
    with torch.device("meta"):
        G, D = build_generator(cfg), build_discriminator(cfg)
        m = cfg.samples_per_batch
        g_acts, fake = _forward_numel(G, torch.empty(m, cfg.nz))  # [m, nz] -> samples
        d_acts, _ = _forward_numel(D, fake)
        g_eval, sample = _forward_numel(G, torch.empty(min(EVAL_BATCH, n), cfg.nz))  # [batch, nz] -> samples
    params = sum(p.numel() for p in G.parameters()) + sum(p.numel() for p in D.parameters())
    noise = FLOAT_BYTES * n * cfg.nz  # the trainer's fixed evaluation noise z [n, nz]
    if cfg.arch == "affine":  # the exact JSD needs no sample
        generated = 0
    else:  # G's samples and its activations for one batch
        generated = FLOAT_BYTES * n * (sample.numel() // sample.shape[0]) + FLOAT_BYTES * g_eval
    data = 0
    if cfg.is_image:
        from gan_core.metrics.classifier import FEATURE_DIM

        data = IMAGES_PER_DATASET[cfg.dataset] * cfg.channels * cfg.image_size ** 2
        data += FLOAT_BYTES * n * (FEATURE_DIM + 2) + 2 * DOUBLE_BYTES * FEATURE_DIM ** 2  # features, radii, cov
    return MemoryEstimate(
        parameters=params,
        parameter_bytes=PARAMETER_COPIES * FLOAT_BYTES * params,
        activation_bytes=BACKWARD_FACTOR * FLOAT_BYTES * (g_acts + 2 * d_acts),
        evaluation_bytes=noise + generated + _metric_bytes(cfg, n),
        data_bytes=data,
        evaluation_samples=n,
    )


def available_bytes(device: str = "cpu") -> int:
    """Memory that a new run can have now: the machine's ``MemAvailable`` (Linux; else its physical memory), or on
    "cuda" the free memory of the current device."""
    if device.startswith("cuda"):
        free, _ = torch.cuda.mem_get_info()
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def size_text(n: int) -> str:
    """Bytes as "1.4 TB", "238 GB" or "4.32 MB"."""
    if n >= 2**40:
        return f"{n / 2**40:.3g} TB"
    return f"{n / 2**30:.3g} GB" if n >= 2**30 else f"{n / 2**20:.3g} MB"


def _smaller_keys(cfg: GANConfig, est: MemoryEstimate) -> str:
    """The keys whose smaller values shrink the largest term of the estimate most directly."""
    if est.evaluation_bytes > max(est.parameter_bytes, est.activation_bytes, est.data_bytes):
        noise = FLOAT_BYTES * est.evaluation_samples * cfg.nz
        return "nz or eval_samples" if 2 * noise > est.evaluation_bytes else "eval_samples"
    return "nz, ngf, ndf, mlp_hidden or batch_size"


def check_fits(cfg: GANConfig, available: int, where: str = "this machine has available") -> MemoryEstimate:
    """The estimate, or ValueError in one line when the run needs more than ``available`` bytes."""
    est = estimate(cfg)
    if est.total > available:
        raise ValueError(
            f"config needs about {size_text(est.total)} of memory for one run ({est.parameters:,} parameters in G "
            f"and D with gradients and Adam state: {size_text(est.parameter_bytes)}; activations of a batch of "
            f"{cfg.batch_size}: {size_text(est.activation_bytes)}; one evaluation of eval_samples = "
            f"{est.evaluation_samples:,} samples: {size_text(est.evaluation_bytes)}), more than the "
            f"{size_text(available)} {where}; allowed: a config that fits, e.g. a smaller {_smaller_keys(cfg, est)}")
    return est
