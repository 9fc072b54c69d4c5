"""Which DCGAN guidelines matter? The baseline with every guideline on, each switched off alone, and all off.

The variants ("baseline", "<key>_off" for each guideline switch declared in gan_core.knobs, "all_off") x seeds,
on mnist5k by default. The default preset (6 seeds, 800 steps, ngf = ndf = 16) is sized so that its answer can
call a large effect after Holm's correction over its 16 comparisons even where some seeds fail (the exact
worst-rank test needs 6 seeds a side; docs/STATISTICS.md), and to run on a 2-core CPU machine in the time of a
laptop session (its wall time: benchmarks/RESULTS.md, "Study and tool run times"); ``--full`` is the cluster
preset. Run from the repository root:

    python studies/arch_ablation.py                      # laptop preset
    python studies/arch_ablation.py --smoke-test         # same code path, tiny
    python studies/arch_ablation.py --full --gpus-per-trial 0.25 --storage-path s3://bucket/gan-study
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from gan_core.knobs import GUIDELINE_OFF, GUIDELINES
from studies import cli, options
from studies.option_types import positive_int, str_list
from studies.options import StudyOption, StudyOptions

if TYPE_CHECKING:  # the runner loads Ray and torch: only once the arguments are parsed
    from studies.runner import StudySpec

STUDY = "arch_ablation"
DATASETS = ("mnist5k", "mnist", "fashion_mnist", "cifar10")

# The one place the presets live. Options given on the command line override the chosen preset.
PRESETS = {
    "default": {"dataset": "mnist5k", "steps": 800, "ngf": 16, "ndf": 16, "batch_size": 64, "eval_every": 200,
                "seeds": 6, "image_size": 32, "eval_samples": 1000},
    "smoke": {"dataset": "mnist5k", "steps": 4, "ngf": 8, "ndf": 8, "batch_size": 16, "eval_every": 2,
              "seeds": 1, "image_size": 32, "eval_samples": 100},
    "full": {"dataset": "mnist5k", "steps": 5000, "ngf": 64, "ndf": 64, "batch_size": 64, "eval_every": 500,
             "seeds": 8, "image_size": 64, "eval_samples": 2000},
}
OPTIONS = StudyOptions(PRESETS, [
    options.dataset(DATASETS, "image dataset"), options.STEPS, options.EVAL_EVERY, options.SEEDS,
    StudyOption("ngf", positive_int, "generator width", config=True),
    StudyOption("ndf", positive_int, "discriminator width", config=True),
    StudyOption("batch_size", positive_int, "minibatch size m", config=True),
    StudyOption("image_size", int, "32 or 64 pixels", config=True),
    StudyOption("eval_samples", positive_int, "generated samples per evaluation", config=True),
])


def variants() -> dict[str, dict]:
    """baseline (all guidelines on), each guideline off alone, all off: label -> changed keys."""
    out: dict[str, dict] = {"baseline": {}}
    for key in GUIDELINES:
        out[f"{key}_off"] = {key: GUIDELINE_OFF[key]}
    out["all_off"] = dict(GUIDELINE_OFF)
    return out


def build_parser() -> cli.StudyParser:
    return OPTIONS.parser(STUDY, __doc__, design_options)


def design_options(g) -> None:
    """The options of the study's own design: --add (more variants) and --variants (which run)."""
    g.add_argument("--add", action="append", default=[], metavar="KEY=VALUE",
                   help="one more variant: the baseline with this config key changed, named <key>_<value> "
                        "(repeatable), e.g. --add spectral_norm_d=true")
    g.add_argument("--variants", type=str_list, default=None,
                   help="which variants run, baseline among them (default: all), e.g. baseline,spectral_norm_d_true")


def chosen_variants(args) -> dict[str, dict]:
    """``variants()``, the ``--add`` ones after them, narrowed to ``--variants``: label -> changed keys."""
    table = variants()
    for key, value in cli.parse_overrides(args.add).items():
        table[f"{key}_{value}".lower()] = {key: value}
    if args.variants is None:
        return table
    unknown = [v for v in args.variants if v not in table]
    if unknown or len(set(args.variants)) != len(args.variants) or "baseline" not in args.variants:
        raise cli.StudyInputError(f"--variants {','.join(args.variants)}: allowed: distinct names of "
                                  f"{', '.join(table)}, baseline among them")
    return {label: table[label] for label in args.variants}


def build_spec(args) -> StudySpec:
    from studies.runner import StudySpec, resolve_base  # Ray and torch: not for --help

    preset = OPTIONS.choose(args)
    evaluator_config, base = resolve_base(OPTIONS.base_config(args, preset, {**GUIDELINES, "arch": "dcgan"}))
    return StudySpec(
        study=STUDY, base=base, variants=chosen_variants(args), seeds=tuple(range(preset["seeds"])),
        baseline_variant="baseline", factors=["variant"], evaluator_config=evaluator_config,
    )


def main(argv: list[str] | None = None) -> int:
    return cli.study_main(STUDY, build_parser, build_spec, argv)


if __name__ == "__main__":
    sys.exit(main())
