"""Train one GAN outside Ray: ``python -m gan_core.train key=value ...``.

The quickest way to try one setting. Prints progress, writes a sample grid PNG (a scatter plot for point data) and
the final checkpoint into --out, and prints as its last line the final metrics as one JSON object, so scripts can
read it with ``json.loads(output.splitlines()[-1])``. A bad key or value: one line on stderr and exit code 2, and so
is a config too large for this machine's memory (``gan_core.memory``) or an --out directory that cannot take the
run's files (not writable, or too little room for one state file): both are checked before training starts, so a
run's results are never lost at its end.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

from gan_core.config import GANConfig, parse_overrides


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr, ``prog: error: message``, and exit code 2 (no usage block);
    the studies' parsers are these too."""

    def error(self, message: str) -> None:
        print(f"{self.prog}: error: {' '.join(str(message).split())}", file=sys.stderr, flush=True)
        raise SystemExit(2)


def _jsonable(metrics: dict[str, Any]) -> dict[str, Any]:
    """NaN and inf are not JSON: write them as null so every JSON reader can parse the last line."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in metrics.items()}


def save_samples(trainer, path: Path, n: int = 64) -> None:
    """A grid of n images (torchvision) or 2,500 points over the true modes (``gan_core.plots``, matplotlib)."""
    if trainer.cfg.is_image:
        from torchvision.utils import save_image

        save_image(trainer.sample(n), path, nrow=8, normalize=True, value_range=(-1, 1))
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gan_core.plots import points_axes

    points = trainer.sample(2500).numpy()  # [2500, dim]
    fig, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
    points_axes(ax, points, trainer.cfg)
    ax.set_title(f"{trainer.cfg.dataset}: {trainer.g_steps} generator steps")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _missing_dirs(path: Path) -> list[Path]:
    """``path`` and those of its ancestors that do not exist yet, deepest first."""
    missing = []
    while not path.exists() and not path.is_symlink() and path.parent != path:
        missing.append(path)
        path = path.parent
    return missing


SAMPLES_ROOM = 2**20  # samples.png, with room to spare


def check_out_dir(out: Path, state_bytes: int) -> None:
    """ValueError in one line unless ``out`` (which exists) takes a file now and has room for the state file and
    the sample grid."""
    try:
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-") as f:
            f.write(b"\0" * 4096)
            f.flush()
        free = shutil.disk_usage(out).free
    except OSError as e:
        raise ValueError(f"--out {str(out)!r} is not writable ({e.strerror or e}); allowed: a writable directory") \
            from None
    need = state_bytes + SAMPLES_ROOM
    if free < need:
        raise ValueError(f"--out {str(out)!r} has {free:,} bytes free, less than the {need:,} that the run's "
                         f"state.pt and samples.png need; allowed: a directory with room for them")


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(
        prog="python -m gan_core.train",
        description="Train one GAN (Goodfellow et al. 2014, Algorithm 1) outside Ray. "
                    "Config keys as key=value; see docs/CONFIGURATION.md.",
    )
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="config keys, e.g. dataset=ring8 k=2")
    parser.add_argument("--out", default="runs/train", help="directory for samples.png and state.pt "
                                                           "(default: runs/train)")
    parser.add_argument("--no-metrics", action="store_true", help="skip the sample-quality metrics")
    args = parser.parse_args(argv)
    from gan_core.memory import available_bytes, check_fits
    from gan_core.runtime import resolve_device

    try:
        cfg = GANConfig.from_flat(parse_overrides(args.overrides))
        device = resolve_device(cfg.device).type
        memory = check_fits(cfg, available_bytes(device), where=f"this machine's {device} has available")
    except ValueError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    created = _missing_dirs(out)  # removed again if the run cannot start: refused input writes nothing

    def refuse(message: str) -> int:
        for path in created:  # deepest first
            try:
                path.rmdir()
            except OSError:
                break
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 2

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return refuse(f"--out {str(out)!r} is not writable ({e.strerror}); allowed: a writable directory")
    try:  # the state file holds the weights and both Adam moments: 3 of the estimate's 4 parameter copies
        check_out_dir(out, memory.parameter_bytes * 3 // 4)
    except ValueError as e:
        return refuse(str(e))

    from gan_core.data import DatasetUnavailableError
    from gan_core.trainer import Trainer

    try:
        evaluator = None
        if not args.no_metrics:
            from gan_core.metrics import build_evaluator

            evaluator = build_evaluator(cfg)
        trainer = Trainer(cfg, evaluator=evaluator)
    except (DatasetUnavailableError, ValueError) as e:
        return refuse(str(e))
    print(f"training {cfg.arch} GAN on {cfg.dataset} for {cfg.steps} generator steps (k={cfg.k}, "
          f"g_loss={cfg.g_loss}) on {trainer.device}, {cfg.threads} thread(s)", flush=True)
    final: dict[str, Any] = {}
    for final in trainer.run():
        shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in final.items()}
        print(" ".join(f"{k}={v}" for k, v in shown.items()), flush=True)
    trainer.save(out / "state.pt")
    save_samples(trainer, out / "samples.png")
    print(f"wrote {out / 'samples.png'} and {out / 'state.pt'}", flush=True)
    print(json.dumps(_jsonable(final)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
