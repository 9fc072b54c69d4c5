"""The GAN paper's MNIST row: Goodfellow et al. (2014), Table 1, Parzen-window log-likelihood 225 +- 2 nats.

The paper's own model and training, as its released code runs them (goodfeli/adversarial: mnist.yaml, __init__.py;
pylearn2 underneath), each difference from this project's defaults a config key:
- data: MNIST's 28 x 28 digits with pixels in [0, 1] (784 inputs to D), minibatches of 100;
- G: 100-d noise, uniform in +-sqrt 3, through 2 x 1200 ReLU to a sigmoid whose bias starts at the logit of each
  pixel's mean over the training digits; D: 2 maxout layers of 240 units x 5 pieces and a sigmoid unit, dropout
  with include probability 0.8 on its input and 0.5 on the inputs of the later layers (pylearn2 scales kept units
  by 1.25 and 2, which is torch's dropout of 0.2 and 0.5); weights uniform in +-0.05 (G) and +-0.005 (D), biases 0;
- one minibatch updates D and G together (``AdversaryCost2``): D descends 0.5 x (BCE on real + BCE on fake), which
  for SGD is this project's sum at half the learning rate (lr_d 0.05), and G the non-saturating loss through the
  same dropout-masked forward of D;
- SGD, learning rate 0.1 divided by 1.000004 after every update down to 1e-6 (``ExponentialDecay``), momentum 0.5
  rising to 0.7 by epoch 250 of 500 updates (``MomentumAdjustor``, here per update over 124,500 updates).

Variants: ``paper`` (all of the above) and ``adam`` (the same with Adam, lr 2e-4 and beta1 0.5, this project's
optimizer). ``--factorial`` runs instead the 2^4 factorial between the paper's setting and the representation
this project used before, whose SGD diverged in every seed: the pixel frame (pixel_range -1..1 at 32 px with a
tanh output and no marginal bias), D's objective as a sum (lr_d 0.1), Gaussian noise, and no schedules. Each
factor's effect on divergence and on the likelihood is in the report.

Scored like Table 1: a Gaussian Parzen window on 10,000 generated digits, its width chosen on one half of the
held-out digits, the mean log-likelihood of the other half with its standard error, pixels in [0, 1] on the
28 x 28 digit (gan_core.metrics.parzen_evaluator). On mnist5k the held-out digits are 1,000 (100 a class;
500 choose the width, 500 are scored), not the paper's 10,000 test digits. ``--dataset mnist`` (the full MNIST on
disk; nothing is downloaded in a test) is the paper's protocol: G and D train on the first 50,000 training digits,
the width is chosen on the first 1,000 of the other 10,000 (``validation_split`` 10,000) and all 10,000 test
digits are scored. Every report also carries the same window built of real training digits
(``parzen_ll_real``): the scale a model is measured against on this split. From the repo root:

    python studies/goodfellow2014.py                 # mnist5k, laptop preset
    python studies/goodfellow2014.py --factorial     # why the paper's SGD diverged in this project's frame
    python studies/goodfellow2014.py --smoke-test
    python studies/goodfellow2014.py --full --dataset mnist --storage-path s3://bucket/gan-study
"""
from __future__ import annotations

import argparse
import itertools
import sys
from typing import TYPE_CHECKING

from studies import cli, options
from studies.option_types import positive_int, str_list
from studies.options import StudyOption, StudyOptions

if TYPE_CHECKING:  # the runner loads Ray and torch: only once the arguments are parsed
    from studies.runner import StudySpec

STUDY = "goodfellow2014"
DATASETS = ("mnist5k", "mnist")

PAPER_MODEL = {"arch": "mlp", "nz": 100, "noise": "uniform", "mlp_hidden": 1200, "mlp_layers": 2,
               "g_activation": "relu", "g_output": "sigmoid", "g_bias": "marginals", "mlp_hidden_d": 240,
               "mlp_layers_d": 2, "maxout_pieces": 5, "dropout_input": 0.2, "dropout_hidden": 0.5, "batch_size": 100,
               "k": 1, "g_loss": "non_saturating", "image_size": 28, "pixel_range": "0..1", "init": "uniform"}
EPOCH = 500  # updates in one epoch of the paper's 50,000 training digits at minibatch 100
PAPER_SPLIT = {"mnist": {"validation_split": 10_000}, "mnist5k": {}}  # MNIST's train[50000:] is the paper's valid
PAPER_OPTIMIZER = {"optimizer": "sgd", "momentum": 0.5, "momentum_final": 0.7, "momentum_ramp": 249 * EPOCH,
                   "lr_d": 0.05, "lr_g": 0.1, "lr_decay": 1.000004, "lr_min": 1e-6, "beta1": 0.5, "beta2": 0.999,
                   "updates": "simultaneous"}
ADAM = {"optimizer": "adam", "momentum": 0.0, "momentum_final": 0.0, "momentum_ramp": 0, "lr_d": 2e-4, "lr_g": 2e-4,
        "lr_decay": 1.0, "lr_min": 0.0}
VARIANTS = {"paper": {}, "adam": dict(ADAM)}

# The factorial: each factor's level "ours" is how this project represented the paper's model before (its SGD
# diverged in 5 of 5 seeds within 104 to 236 steps); the analysis reads each factor off the key named first.
OURS = {
    "pixels": {"pixel_range": "-1..1", "image_size": 32, "g_output": "tanh", "g_bias": "default"},
    "dsum": {"lr_d": 0.1},  # D's objective the sum of its two terms, not their mean: SGD's step twice as long
    "gauss": {"noise": "gaussian"},
    "noschedule": {"lr_decay": 1.0, "lr_min": 0.0, "momentum_final": 0.0, "momentum_ramp": 0},
}
FACTORS = ["pixel_range", "lr_d", "noise", "lr_decay"]  # the key that names each factor of OURS, in its order
FACTORIAL_BUDGET = {"steps": 1000, "eval_every": 250, "seeds": 3, "parzen_samples": 2000}


def factorial_variants() -> dict[str, dict]:
    """The 16 cells: ``paper`` and ``ours-<factors>`` for every non-empty set of the factors at this project's
    former level (``ours-pixels-dsum-gauss-noschedule``: all four)."""
    out: dict[str, dict] = {}
    for n in range(len(OURS) + 1):
        for names in itertools.combinations(OURS, n):
            label = "paper" if not names else "ours-" + "-".join(names)
            out[label] = {k: v for name in names for k, v in OURS[name].items()}
    return out


SOURCE = "Goodfellow et al. 2014, Table 1 (MNIST, 10,000 test digits; their optimizer: SGD)"
PUBLISHED = [{"variant": "paper", "metric": "parzen_ll", "value": 225.0, "se": 2.0, "source": SOURCE}]

# The presets (options given on the command line win). The default is the laptop's budget: 3,000 steps (6 epochs
# of 50,000 digits at minibatch 100) and 5 seeds. parzen_samples: generated digits in the Parzen window (the
# paper: 10,000; the smoke test's 200 only exercise the code path). --factorial on the default preset takes
# FACTORIAL_BUDGET where an option is not given: the divergence it explains came within 236 steps.
PRESETS = {
    "default": {"dataset": "mnist5k", "steps": 3000, "eval_every": 500, "seeds": 5, "parzen_samples": 10_000},
    "smoke": {"dataset": "mnist5k", "steps": 4, "eval_every": 2, "seeds": 1, "parzen_samples": 200},
    "full": {"dataset": "mnist", "steps": 100_000, "eval_every": 10_000, "seeds": 10, "parzen_samples": 10_000},
}
OPTIONS = StudyOptions(PRESETS, [
    options.dataset(DATASETS, "MNIST digits"), options.STEPS, options.EVAL_EVERY, options.SEEDS,
    StudyOption("parzen_samples", positive_int, "generated digits in the Parzen window (preset: {preset:,}, as the "
                                                "paper)"),
])


def build_parser() -> cli.StudyParser:
    return OPTIONS.parser(STUDY, __doc__, design_options)


def design_options(g) -> None:
    """The options of the study's own design: --variants (the paper's setting, Adam) or --factorial."""
    g.add_argument("--variants", type=str_list, default=None,
                   help="which settings run, e.g. paper (default: paper,adam; not with --factorial)")
    g.add_argument("--factorial", action=argparse.BooleanOptionalAction, default=False,
                   help="run the 2^4 factorial between the paper's setting and this project's former representation "
                        "of it (16 variants; on the default preset 1,000 steps, 3 seeds, 2,000 Parzen samples)")


def build_spec(args) -> StudySpec:
    from studies.runner import StudySpec, resolve_base  # Ray and torch: not for --help

    factorial_budget = args.factorial and OPTIONS.preset_name(args) == "default"
    preset = OPTIONS.choose(args, FACTORIAL_BUDGET if factorial_budget else None)
    evaluator_config, base = resolve_base(OPTIONS.base_config(args, preset, {
        **PAPER_MODEL, **PAPER_OPTIMIZER, **PAPER_SPLIT[preset["dataset"]], "eval_samples": 1000}))
    if args.factorial and args.variants is not None:
        raise cli.StudyInputError(f"--variants {','.join(args.variants)} with --factorial; allowed: one of them (the "
                                  f"factorial runs its 16 cells)")
    unknown = [v for v in args.variants or () if v not in VARIANTS]
    if unknown or (args.variants is not None and len(set(args.variants)) != len(args.variants)):
        raise cli.StudyInputError(f"--variants {','.join(args.variants)}: allowed: distinct names of "
                                  f"{', '.join(VARIANTS)}")
    if args.factorial:
        variants, factors = factorial_variants(), list(FACTORS)
        baseline = {key: base[key] for key in FACTORS}
    else:
        chosen = args.variants or list(VARIANTS)
        variants, factors, baseline = {k: dict(VARIANTS[k]) for k in chosen}, ["variant"], {}
    return StudySpec(
        study=STUDY, base=base, variants=variants, seeds=tuple(range(preset["seeds"])), baseline_variant="paper",
        factors=factors, baseline=baseline, evaluator_config=evaluator_config,
        evaluator_options={"parzen_samples": preset["parzen_samples"]}, published=[dict(p) for p in PUBLISHED],
    )


def main(argv: list[str] | None = None) -> int:
    return cli.study_main(STUDY, build_parser, build_spec, argv)


if __name__ == "__main__":
    sys.exit(main())
