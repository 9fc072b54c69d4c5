"""How many discriminator steps k per generator step, and which generator loss?

k in {1, 2, 3, 5} x g_loss in {non_saturating, minimax} x seeds, on the 8-Gaussian ring by default (a trial
takes seconds on a CPU), on grid25 or an image dataset with --dataset. Run from the repository root:

    python studies/k_sweep.py                       # ring8, 3 seeds
    python studies/k_sweep.py --smoke-test
    python studies/k_sweep.py --dataset mnist5k --k 1,5 --seeds 5
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from gan_core.config import IMAGE_DATASETS
from studies import cli, options
from studies.option_types import int_list, str_list
from studies.options import StudyOption, StudyOptions

if TYPE_CHECKING:  # the runner loads Ray and torch: only once the arguments are parsed
    from studies.runner import StudySpec

STUDY = "k_sweep"
DATASETS = ("ring8", "grid25", *IMAGE_DATASETS)
BASELINE = {"k": 1, "g_loss": "non_saturating"}

# The presets (options given on the command line win); options.IMAGE_PRESETS add to them for image datasets.
PRESETS = {
    "default": {"dataset": "ring8", "k": [1, 2, 3, 5], "g_loss": ["non_saturating", "minimax"], "steps": 2000,
                "eval_every": 250, "seeds": 3},
    "smoke": {"dataset": "ring8", "k": [1, 2, 3, 5], "g_loss": ["non_saturating", "minimax"], "steps": 40,
              "eval_every": 20, "seeds": 1},
    "full": {"dataset": "ring8", "k": [1, 2, 3, 5], "g_loss": ["non_saturating", "minimax"], "steps": 10000,
             "eval_every": 500, "seeds": 5},
}
OPTIONS = StudyOptions(PRESETS, [
    options.dataset(DATASETS, "dataset"),
    StudyOption("k", int_list, "discriminator steps per generator step, e.g. 1,2,3,5"),
    StudyOption("g_loss", str_list, "generator losses, e.g. non_saturating,minimax"),
    options.STEPS, options.EVAL_EVERY, options.SEEDS.but(help="seeds per (k, g_loss) (0..N-1)"),
])


def variant_label(k: int, g_loss: str) -> str:
    return f"k{k}_{g_loss}"


def build_parser() -> cli.StudyParser:
    return OPTIONS.parser(STUDY, __doc__)


def build_spec(args) -> StudySpec:
    from studies.runner import StudySpec, resolve_base  # Ray and torch: not for --help

    preset = OPTIONS.choose(args)
    evaluator_config, base = resolve_base(options.image_base_config(args, OPTIONS, preset))
    variants = {variant_label(k, g): {"k": k, "g_loss": g} for k in preset["k"] for g in preset["g_loss"]}
    if len(variants) != len(preset["k"]) * len(preset["g_loss"]):
        raise cli.StudyInputError(f"--k {preset['k']} / --g-loss {preset['g_loss']}: values repeat")
    baseline = variant_label(BASELINE["k"], BASELINE["g_loss"])
    return StudySpec(
        study=STUDY, base=base, variants=variants, seeds=tuple(range(preset["seeds"])),
        baseline_variant=baseline if baseline in variants else None, factors=["k", "g_loss"],
        baseline=dict(BASELINE), evaluator_config=evaluator_config,
    )


def main(argv: list[str] | None = None) -> int:
    return cli.study_main(STUDY, build_parser, build_spec, argv)


if __name__ == "__main__":
    sys.exit(main())
