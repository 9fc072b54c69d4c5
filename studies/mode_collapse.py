"""Mode collapse on the 2D mixtures: PacGAN's table, VEEGAN's setting, and what separates the two.

PacGAN (Lin et al. 2018, Table 1) and VEEGAN (Srivastava et al. 2017, Table 1) both train a vanilla GAN on the
ring of 8 Gaussians and the grid of 25 and report very different results for it (ring: 6.3 of 8 modes against 1).
Their setups differ in the networks (with the batch size that goes with them), the optimizer's settings and how
D and G are updated. This study runs, on one dataset:

- ``gan`` and ``pacgan2`` (``--full`` adds ``pacgan3``, ``pacgan4``): PacGAN's networks and settings, from its
  released code (fjxmlzn/PacGAN), packing m = 1..4;
- ``veegan``: VEEGAN's setting (akashgit/VEEGAN: far smaller networks, a larger learning rate and batch);
- the 2 x 2 x 2 factorial between them: network (and batch), learning rate and beta1, and updates simultaneous
  (both papers' code) or alternating (the paper's Algorithm 1); ``gan`` and ``veegan`` are two of its corners.

It ends with a table that sets each published figure beside ours (mean, 95% CI over seeds, and whether the
published value lies inside), also written to the report as published.csv. Run from the repository root (wall
times on a 2-core machine: benchmarks/RESULTS.md, "Study and tool run times"):

    python studies/mode_collapse.py                       # ring8, laptop preset
    python studies/mode_collapse.py --dataset grid25 --no-factorial   # the table's rows only
    python studies/mode_collapse.py --long                # 20,000 steps, gan and pacgan2
    python studies/mode_collapse.py --long --dataset grid25 --variants gan
    python studies/mode_collapse.py --smoke-test
    python studies/mode_collapse.py --full --storage-path s3://bucket/gan-study   # PacGAN's 400k steps, 10 seeds
"""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Sequence

from studies import cli, options
from studies.option_types import int_list, str_list
from studies.options import StudyOption, StudyOptions
from studies.resume import study_args

if TYPE_CHECKING:  # the runner loads Ray and torch: only once the arguments are parsed
    from studies.runner import StudySpec

STUDY = "mode_collapse"
DATASETS = ("ring8", "grid25")

# PacGAN's released code: G = 4 x (Linear 400 without bias -> BatchNorm -> ReLU) -> linear 2, z ~ N(0, I_2);
# D = 3 maxout layers of 200 units x 5 pieces -> linear 1, no BatchNorm, no dropout (defined but switched off);
# every weight N(0, 0.02^2); 100 packs a minibatch.
PACGAN_NET = {"nz": 2, "mlp_hidden": 400, "mlp_layers": 4, "batchnorm_g": True, "mlp_hidden_d": 200,
              "mlp_layers_d": 3, "maxout_pieces": 5, "d_activation": "leaky_relu", "init": "normal_0.02",
              "batch_size": 100}
# VEEGAN's notebook: G = 2 x 128 ReLU -> linear 2 from 254 + 1 Gaussian noise dimensions; D = 1 x 128 ReLU
# -> 1; minibatch 500; default (Glorot) init, which here is the variance-preserving init of arch mlp.
VEEGAN_NET = {"nz": 255, "mlp_hidden": 128, "mlp_layers": 2, "batchnorm_g": False, "mlp_hidden_d": 128,
              "mlp_layers_d": 1, "maxout_pieces": 0, "d_activation": "relu", "init": "auto", "batch_size": 500}
PACGAN_OPT = {"lr_d": 1e-4, "lr_g": 1e-4, "beta1": 0.8}  # Adam, beta2 0.999
VEEGAN_OPT = {"lr_d": 1e-3, "lr_g": 1e-3, "beta1": 0.5}
NETS = {"pacgan": PACGAN_NET, "veegan": VEEGAN_NET}
OPTS = {"pacgan": PACGAN_OPT, "veegan": VEEGAN_OPT}
UPDATES = {"sim": "simultaneous", "alt": "alternating"}

# Published figures, in this project's units (high_quality_frac a fraction): each row of the papers' tables, its
# source and, per dataset, (mean, standard error or None) of each metric of PUBLISHED_METRICS it reports, in order.
PUBLISHED_METRICS = ("modes_captured", "high_quality_frac", "reverse_kl")
PACGAN_SOURCE = "PacGAN Table 1 (10 trials)"
VEEGAN_SOURCE = "VEEGAN Table 1 (5 runs)"
PUBLISHED = {
    "gan": (PACGAN_SOURCE, {"ring8": ((6.3, 0.5), (0.982, 0.002), (0.45, 0.09)),
                            "grid25": ((17.3, 0.8), (0.948, 0.007), (0.70, 0.07))}),
    "pacgan2": (PACGAN_SOURCE, {"ring8": ((7.9, 0.1), (0.956, 0.020), (0.07, 0.03)),
                                "grid25": ((23.8, 0.7), (0.913, 0.008), (0.13, 0.04))}),
    "veegan": (VEEGAN_SOURCE, {"ring8": ((1.0, None), (0.993, None)),  # no reverse KL, no errors
                               "grid25": ((3.3, None), (0.005, None))}),
}


def published(dataset: str, rows: Sequence[str]) -> list[dict]:
    """The published figures of those of ``rows`` the papers report, for the report's comparison table."""
    return [{"variant": variant, "metric": metric, "value": value, "se": se, "source": source}
            for variant, (source, figures) in PUBLISHED.items() if variant in rows
            for metric, (value, se) in zip(PUBLISHED_METRICS, figures[dataset])]

# The presets (options given on the command line win). The default is the laptop's budget: 3,000 steps (PacGAN
# trains 400,000) and 5 seeds, so its figures are those of short runs; ``--full`` is PacGAN's protocol.
PRESETS = {
    "default": {"dataset": "ring8", "steps": 3000, "eval_every": 500, "seeds": 5, "packs": [2]},
    "smoke": {"dataset": "ring8", "steps": 6, "eval_every": 3, "seeds": 1, "packs": [2]},
    "full": {"dataset": "ring8", "steps": 400_000, "eval_every": 10_000, "seeds": 10, "packs": [2, 3, 4]},
}
OPTIONS = StudyOptions(PRESETS, [
    options.dataset(DATASETS, "2D mixture"), options.STEPS, options.EVAL_EVERY, options.SEEDS,
    StudyOption("packs", int_list, "PacGAN pack sizes besides 1, e.g. 2,3,4"),
])

# --long: the budget where the ring's curves level off (high quality and reverse KL change little after about 11,000
# steps, measured: docs/REPRODUCTIONS.md, "Mode collapse on the 2D mixtures"), the rows of PacGAN's table only.
# Options given on the command line win.
LONG_BUDGET = {"steps": 20_000, "eval_every": 1_000}
LONG_VARIANTS = ("gan", "pacgan2")


def factorial_label(net: str, opt: str, updates: str) -> str:
    """The factorial's cell name; its two corners that are the papers' setups have the papers' names."""
    if (net, opt, updates) == ("pacgan", "pacgan", "sim"):
        return "gan"
    if (net, opt, updates) == ("veegan", "veegan", "sim"):
        return "veegan"
    return f"net-{net}_opt-{opt}_{updates}"


def variants(packs: list[int], factorial: bool = True) -> dict[str, dict]:
    """gan, pacgan<m> for each m, veegan and (with ``factorial``) the rest of the factorial: label -> its keys
    (every key that differs between the setups, so each variant is complete whatever the base)."""
    out: dict[str, dict] = {}
    for net in NETS:
        for opt in OPTS:
            for updates in UPDATES:
                out[factorial_label(net, opt, updates)] = {**NETS[net], **OPTS[opt], "updates": UPDATES[updates],
                                                           "pack": 1}
    for m in packs:
        out[f"pacgan{m}"] = {**out["gan"], "pack": m}
    first = ["gan", *(f"pacgan{m}" for m in packs), "veegan"]
    return {label: out[label] for label in first + ([k for k in out if k not in first] if factorial else [])}


def build_parser() -> cli.StudyParser:
    return OPTIONS.parser(STUDY, __doc__, design_options)


def design_options(g) -> None:
    """The options of the study's own design: which rows of the papers' tables run, and at what budget."""
    g.add_argument("--factorial", action=argparse.BooleanOptionalAction, default=None,
                   help="run the 2 x 2 x 2 factorial between the two setups (default: on; --no-factorial runs only "
                        "the rows of the papers' tables; --variants and --long choose rows instead)")
    g.add_argument("--variants", type=str_list, default=None,
                   help="which of the table's rows run, e.g. gan,pacgan2 (default: all; not with --factorial)")
    g.add_argument("--long", action="store_true",
                   help=f"the budget that reaches the published regime: {LONG_BUDGET} (options given win), rows "
                        f"{','.join(LONG_VARIANTS)}, no factorial; its own experiment, mode_collapse_<dataset>_long")


def build_spec(args) -> StudySpec:
    from studies.runner import StudySpec, resolve_base  # Ray and torch: not for --help

    if args.long and OPTIONS.preset_name(args) != "default":
        raise cli.StudyInputError("--long with --smoke-test or --full; allowed: one of them")
    preset = OPTIONS.choose(args, LONG_BUDGET if args.long else None)
    if any(m < 2 for m in preset["packs"]) or len(set(preset["packs"])) != len(preset["packs"]):
        raise cli.StudyInputError(f"--packs {preset['packs']}: allowed: distinct pack sizes >= 2 (m = 1 is 'gan')")
    chosen = args.variants if args.variants is not None else (list(LONG_VARIANTS) if args.long else None)
    if chosen is not None and args.factorial:
        raise cli.StudyInputError(f"--variants {','.join(chosen)} with --factorial; allowed: one of them")
    factorial = chosen is None and args.factorial is not False
    table = variants(preset["packs"], factorial or chosen is not None)
    if chosen is not None:
        unknown = [v for v in chosen if v not in table]
        if unknown or len(set(chosen)) != len(chosen) or "gan" not in chosen:
            raise cli.StudyInputError(f"--variants {','.join(chosen)}: allowed: distinct names of {', '.join(table)}, "
                                      f"gan among them (the baseline)")
        table = {label: table[label] for label in chosen}
    evaluator_config, base = resolve_base(OPTIONS.base_config(args, preset, {
        **table["gan"], "g_loss": "non_saturating", "k": 1, "eval_samples": 2500}))
    return StudySpec(
        study=STUDY, base=base, variants=table, seeds=tuple(range(preset["seeds"])), baseline_variant="gan",
        factors=["variant"], evaluator_config=evaluator_config, published=published(preset["dataset"], list(table)),
    )


def main(argv: list[str] | None = None) -> int:
    def body() -> int:
        args = study_args(STUDY, build_parser, argv, name=default_name)
        from studies.runner import run_study  # after parsing: --help imports neither Ray nor torch
        if args.name is None:
            args.name = default_name(args)
        return run_study(build_spec(args), args, command=cli.command_line(STUDY, argv)).exit_code

    return cli.run_main(STUDY, body)


def default_name(args) -> str:
    """One experiment per dataset: ring8 and grid25 results side by side."""
    return f"{STUDY}_{OPTIONS.choose(args)['dataset']}" + ("_long" if args.long else "") + ("_smoke" if args.smoke_test else "")


if __name__ == "__main__":
    sys.exit(main())
