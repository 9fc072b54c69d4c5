"""Does a trained discriminator reach the theory's optimum D*(x) = p_data / (p_data + p_g)?

For p_data = N(0, 1) and a few fixed generator distributions p_g (N(0,1): then D* = 1/2 everywhere; N(1,1),
N(0,2), N(-2,0.5)), each trial trains a small D to optimality with the exact GAN discriminator objective and
reports max |D - D*|, V(G, D) against C(G) = -log 4 + 2 JSD, and the JSD (gan_core.metrics.theory). Prints a
table of the results and writes it as theory_check.csv into the experiment directory. Run from the repo root:

    python studies/theory_check.py
    python studies/theory_check.py --smoke-test
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from studies import cli, options
from studies.options import StudyOption, StudyOptions
from studies.experiment_dir import write_text
from studies.resume import study_args

if TYPE_CHECKING:  # the runner loads Ray and torch: only once the arguments are parsed
    import pandas as pd

    from studies.runner import StudySpec

STUDY = "theory_check"
# p_g settings: label -> (mu_g, sigma_g); p_data is N(0, 1).
SETTINGS = {
    "mu0_sd1": {"mu_g": 0.0, "sigma_g": 1.0},
    "mu1_sd1": {"mu_g": 1.0, "sigma_g": 1.0},
    "mu0_sd2": {"mu_g": 0.0, "sigma_g": 2.0},
    "mu-2_sd0.5": {"mu_g": -2.0, "sigma_g": 0.5},
}
BASELINE = "mu0_sd1"  # p_g = p_data
METRIC, MODE = "max_abs_d_error", "min"
TABLE_COLUMNS = ("variant", "mu_g", "sigma_g", "seed", "steps", "max_abs_d_error", "value", "value_theory",
                 "value_error", "jsd", "within_tolerance")

# The presets (options given on the command line win). steps = optimisation steps of D per trial.
PRESETS = {
    "default": {"steps": 500, "seeds": 3},
    "smoke": {"steps": 30, "seeds": 1},
    "full": {"steps": 2000, "seeds": 5},
}
OPTIONS = StudyOptions(PRESETS, [  # --steps: any integer; the trial's own check refuses one < 1 in one line
    StudyOption("steps", int, "discriminator optimisation steps per trial"),
    options.SEEDS.but(help="seeds per setting (0..N-1)"),
])


def build_parser() -> cli.StudyParser:
    return OPTIONS.parser(STUDY, __doc__)


def build_spec(args) -> StudySpec:
    from studies.runner import StudySpec  # Ray and torch: not for --help
    from studies.trainable import check_theory, theory_config

    preset = OPTIONS.choose(args)
    if args.overrides:
        raise cli.StudyInputError("--set is for GAN config keys; the theory check has none (use --steps, --seeds)")
    base = {"mu_g": 0.0, "sigma_g": 1.0, "steps": preset["steps"], "seed": 0}
    return StudySpec(
        study=STUDY, base=base, variants={k: dict(v) for k, v in SETTINGS.items()},
        seeds=tuple(range(preset["seeds"])), baseline_variant=BASELINE, factors=["variant"],
        trainable=check_theory, validate=theory_config, metric=METRIC, mode=MODE, cost=None, gan_trials=False,
    )


def results_table(result_grid) -> pd.DataFrame:
    """One row per trial: the p_g setting, the seed and what the check measured, ordered by setting and seed."""
    import pandas as pd

    from gan_core.metrics.theory import MAX_ABS_D_ERROR_TOL, VALUE_ERROR_TOL

    rows = []
    for result in result_grid:
        if result.error is not None:
            continue
        cfg, m = result.config, result.metrics
        rows.append({
            "variant": cfg["variant"], "mu_g": cfg["mu_g"], "sigma_g": cfg["sigma_g"], "seed": cfg["seed"],
            "steps": cfg["steps"], **{k: m[k] for k in ("max_abs_d_error", "value", "value_theory", "value_error",
                                                          "jsd")},
            "within_tolerance": bool(m["max_abs_d_error"] <= MAX_ABS_D_ERROR_TOL
                                     and m["value_error"] <= VALUE_ERROR_TOL),
        })
    order = {label: i for i, label in enumerate(SETTINGS)}
    df = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    return df.sort_values(["variant", "seed"], key=lambda s: s.map(order) if s.name == "variant" else s,
                          ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    def body() -> int:
        args = study_args(STUDY, build_parser, argv)
        import pandas as pd

        from studies.runner import run_study  # after parsing: --help imports neither Ray nor torch
        run = run_study(build_spec(args), args, command=cli.command_line(STUDY, argv))
        table = results_table(run.result_grid)
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print("\n" + table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"Table:   {write_text(run.location, 'theory_check.csv', table.to_csv(index=False))}")
        return run.exit_code

    return cli.run_main(STUDY, body)


if __name__ == "__main__":
    sys.exit(main())
