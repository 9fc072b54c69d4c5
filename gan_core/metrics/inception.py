"""Optional: the standard Inception FID (Heusel et al. 2017), via torch-fidelity, for comparison with papers.

Why optional: it needs the torch-fidelity package (``pip install gan-study[fid]``) and the Inception-v3 weights
that torch-fidelity ports from TensorFlow (``weights-inception-2015-12-05-6726825d.pth``, ~100 MB, downloaded
once into the torch hub cache), and it costs seconds per thousand images even on a GPU, so it is an offline
extra for final samples, not part of the per-trial evaluation (``image_evaluator.py`` uses the dataset's classifier).

It never touches the network: ``inception_fid_status`` looks for the package and for the weights file in the
torch hub cache (``torch.hub.get_dir()/checkpoints``) before anything is built, and torch-fidelity is then given
that file's path explicitly. Where either is missing, ``inception_fid`` returns ``(None, "inception_fid skipped:
<why>")`` -- one line, logged once as a warning -- instead of raising.
"""
from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path

import torch

from gan_core.metrics.features import feature_stats, frechet_distance

__all__ = ["INCEPTION_WEIGHTS_FILE", "inception_weights_path", "inception_fid_status", "inception_fid"]

INCEPTION_WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
_log = logging.getLogger(__name__)
_warned: set[str] = set()


def inception_weights_path() -> Path:
    """Where torch-fidelity's Inception weights are cached: <torch hub dir>/checkpoints/<file>."""
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_WEIGHTS_FILE


def inception_fid_status() -> tuple[bool, str]:
    """(available, reason): whether the Inception FID can run here without any download."""
    if importlib.util.find_spec("torch_fidelity") is None:
        return False, "torch-fidelity is not installed (pip install 'gan-study[fid]')"
    path = inception_weights_path()
    if not path.is_file():
        return False, (f"the Inception weights are not cached at {path} and nothing is downloaded here "
                       f"(fetch {INCEPTION_WEIGHTS_FILE} from the torch-fidelity v0.2.0 release into that folder)")
    return True, f"torch-fidelity with weights at {path}"


def _to_uint8_rgb(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] or uint8 images [N, C, H, W] -> uint8 [N, 3, H, W] (grey replicated to 3 channels)."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape [N, 1 or 3, H, W], got {tuple(images.shape)}")
    if images.dtype != torch.uint8:
        if not bool(torch.isfinite(images).all()):
            raise ValueError("images contain NaN or infinite values; allowed: finite values in [-1, 1]")
        images = ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


@torch.no_grad()
def inception_fid(fake: torch.Tensor, real: torch.Tensor, device: torch.device | str = "cpu",
                  batch_size: int = 100) -> tuple[float | None, str]:
    """Inception FID of fake vs real images ([N, C, H, W], uint8 or float in [-1, 1]); (value, message).

    Returns (None, "inception_fid skipped: ...") when torch-fidelity or its cached weights are missing, or when
    building the network fails; never raises for those, and never downloads.
    """
    ok, why = inception_fid_status()
    if not ok:
        return None, _skip(why)
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                          feature_extractor_weights_path=os.fspath(inception_weights_path()))
        net = net.to(device).eval()
    except Exception as e:  # a torch-fidelity version with another API, a torn weights file, ...
        return None, _skip(f"torch-fidelity could not build its Inception network ({type(e).__name__}: {e})")
    feats = []
    for images in (fake, real):
        x = _to_uint8_rgb(images)
        chunks = [net(x[i:i + batch_size].to(device))[0].double().cpu() for i in range(0, x.shape[0], batch_size)]
        feats.append(torch.cat(chunks))  # [N, 2048]
    mu1, cov1 = feature_stats(feats[0])
    mu2, cov2 = feature_stats(feats[1])
    return frechet_distance(mu1, cov1, mu2, cov2), "inception_fid computed with torch-fidelity"


def _skip(why: str) -> str:
    msg = f"inception_fid skipped: {why}"
    if msg not in _warned:
        _warned.add(msg)
        _log.warning(msg)
    return msg
