"""The GAN paper's MNIST row: Goodfellow et al. (2014), Table 1, Parzen-window log-likelihood 225 +- 2 nats.

The paper's own models and settings, from its released code (goodfeli/adversarial, mnist.yaml): G from 100-d
noise through 2 x 1200 ReLU to the pixels (a sigmoid there, for pixels in [0, 1]; tanh here, for this project's
[-1, 1]: the same function up to that affine map); D of 2 maxout layers of 240 units x 5 pieces, dropout 0.2 on
its input and 0.5 on its hidden layers; weights uniform in +-0.05 (G) and +-0.005 (D); minibatch 100, k = 1, D
and G updated together from one minibatch, SGD with learning rate 0.1 and momentum 0.5. Three variants, each
over seeds:

- ``paper``: those settings (without the code's schedules: its momentum rises from 0.5 to 0.7 and its learning
  rate decays by 1.000004 a step, both negligible within this budget);
- ``adam``: the same with Adam (lr 2e-4, beta1 0.5), this project's default optimizer, instead of SGD;
- ``adam_alternating``: Adam with Algorithm 1's alternating updates (one change from ``adam``).

Scored like Table 1: a Gaussian Parzen window on 10,000 generated digits, its width chosen on one half of the
held-out digits, the mean log-likelihood of the other half with its standard error, pixels in [0, 1] on the
28 x 28 digit (gan_core.metrics.parzen_evaluator). On mnist5k the held-out digits are 1,000 (100 a class;
500 choose the width, 500 are scored), not the paper's 10,000 test digits; with ``--dataset mnist`` they are the
official test set (5,000 and 5,000). The run ends with our figures beside the paper's. From the repo root:

    python studies/goodfellow2014.py                 # mnist5k, laptop preset (30 to 40 minutes on 2 cores)
    python studies/goodfellow2014.py --smoke-test
    python studies/goodfellow2014.py --full --dataset mnist --storage-path s3://bucket/gan-study
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import the project from the repository root, not studies/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from studies import cli  # noqa: E402
from studies.runner import StudySpec, resolve_base, study_main  # noqa: E402

STUDY = "goodfellow2014"
DATASETS = ("mnist5k", "mnist")

PAPER_MODEL = {"arch": "mlp", "nz": 100, "mlp_hidden": 1200, "mlp_layers": 2, "g_activation": "relu",
               "g_output": "tanh", "mlp_hidden_d": 240, "mlp_layers_d": 2, "maxout_pieces": 5,
               "dropout_input": 0.2, "dropout_hidden": 0.5, "batch_size": 100, "k": 1, "g_loss": "non_saturating"}
PAPER_OPTIMIZER = {"optimizer": "sgd", "momentum": 0.5, "lr_d": 0.1, "lr_g": 0.1, "beta1": 0.5, "beta2": 0.999,
                   "updates": "simultaneous", "init": "uniform"}
ADAM = {"optimizer": "adam", "momentum": 0.0, "lr_d": 2e-4, "lr_g": 2e-4}
VARIANTS = {
    "paper": {},
    "adam": dict(ADAM),
    "adam_alternating": {**ADAM, "updates": "alternating"},
}
SOURCE = "Goodfellow et al. 2014, Table 1 (MNIST, 10,000 test digits; their optimizer: SGD)"
PUBLISHED = [{"variant": v, "metric": "parzen_ll", "value": 225.0, "se": 2.0, "source": SOURCE}
             for v in ("paper", "adam")]

# The presets (options given on the command line win). The default is the laptop's budget: 3,000 steps (6 epochs
# of 50,000 digits at minibatch 100) and 5 seeds. parzen_samples: generated digits in the Parzen window (the
# paper: 10,000; the smoke test's 200 only exercise the code path).
PRESETS = {
    "default": {"dataset": "mnist5k", "steps": 3000, "eval_every": 1500, "seeds": 5, "parzen_samples": 10_000},
    "smoke": {"dataset": "mnist5k", "steps": 4, "eval_every": 2, "seeds": 1, "parzen_samples": 200},
    "full": {"dataset": "mnist", "steps": 100_000, "eval_every": 10_000, "seeds": 10, "parzen_samples": 10_000},
}


def build_parser() -> cli.StudyParser:
    p = cli.make_parser(STUDY, __doc__.split("\n\n")[0], PRESETS)
    g = p.add_argument_group("study")
    g.add_argument("--dataset", choices=DATASETS, default=None, help="MNIST digits (preset: mnist5k)")
    g.add_argument("--steps", type=cli.positive_int, default=None, help="generator steps per trial")
    g.add_argument("--eval-every", type=cli.positive_int, default=None, help="generator steps between reports")
    g.add_argument("--seeds", type=cli.positive_int, default=None, help="seeds per variant (0..N-1)")
    g.add_argument("--parzen-samples", type=cli.positive_int, default=None,
                   help="generated digits in the Parzen window (preset: 10,000, as the paper)")
    return p


def build_spec(args) -> StudySpec:
    preset = cli.choose_preset(args, PRESETS)
    overrides = cli.parse_overrides(args.overrides)
    evaluator_config, base = resolve_base({
        **PAPER_MODEL, **PAPER_OPTIMIZER, "dataset": preset["dataset"], "image_size": 32, "steps": preset["steps"],
        "eval_every": preset["eval_every"], "eval_samples": 1000, "threads": args.cpus_per_trial, **overrides,
    })
    return StudySpec(
        study=STUDY, base=base, variants={k: dict(v) for k, v in VARIANTS.items()},
        seeds=tuple(range(preset["seeds"])), baseline_variant="paper", factors=["variant"],
        evaluator_config=evaluator_config, evaluator_options={"parzen_samples": preset["parzen_samples"]},
        published=[dict(p) for p in PUBLISHED],
    )


def main(argv: list[str] | None = None) -> int:
    return study_main(STUDY, build_parser, build_spec, argv)


if __name__ == "__main__":
    sys.exit(main())
