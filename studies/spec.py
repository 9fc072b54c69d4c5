"""A study's design, as the study scripts build it (``StudySpec``: variants x seeds over a base config, or a
search), and what a run of it left (``StudyRun``); ``studies.runner.run_study`` runs one."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from ray.tune.search.sample import Domain

from gan_core.config import GANConfig
from studies import space as space_mod
from studies.cli import EXIT_FAILED, EXIT_INTERRUPTED, StudyInputError
from studies.experiment_dir import ExperimentDir
from studies.members import populations, seed_chunks
from studies.trainable import train_gan
from studies.trial import StudyTrial

__all__ = ["StudySpec", "StudyRun", "gan_trial_cost", "resolve_base"]


def gan_trial_cost(flat: dict[str, Any]) -> float:
    """A GAN trial's estimated FLOPs: ``gan_core.cost.iteration_flops`` times its generator steps."""
    from gan_core.cost import iteration_flops

    return float(iteration_flops(GANConfig.from_flat(flat)) * flat["steps"])


@dataclass(frozen=True)
class StudySpec:
    """What a study runs: variants x seeds over a shared base config, optionally with searched keys."""

    study: str                                   # study name: default experiment name, study.json "study"
    base: dict[str, Any]                         # trial config keys shared by every trial
    variants: dict[str, dict[str, Any]]          # variant label -> the keys it changes against ``base``
    seeds: tuple[int, ...]                       # one trial per variant and seed; () = the seed in ``base``
    baseline_variant: str | None                 # the label every other variant is compared with
    factors: list[str] | None = None             # config keys the analysis should treat as factors
    baseline: dict[str, Any] = field(default_factory=dict)  # baseline levels of the factors
    trainable: Callable[..., None] = train_gan
    validate: Callable[[dict[str, Any]], Any] = GANConfig.from_flat  # strict check of one config sans study keys
    evaluator_config: GANConfig | None = None    # build the evaluator from this config; None: no evaluator
    evaluator_options: dict[str, Any] = field(default_factory=dict)  # more of build_evaluator's keywords
    metric: str | None = None                    # primary metric when there is no evaluator
    mode: str | None = None
    searched: dict[str, Domain] = field(default_factory=dict)  # keys a search algorithm chooses
    num_samples: int = 1
    # A searcher/scheduler is built without metric and mode: Tune hands it the study's (TuneConfig).
    make_searcher: Callable[[ExperimentDir], Any] | None = None   # experiment location -> Searcher
    make_scheduler: Callable[[], Any] | None = None          # -> TrialScheduler
    # What chooses and stops the trials, for the report (a search reports its best settings, not effects).
    search: dict[str, str] | None = None
    # Estimated cost of one trial from its config sans study keys (None: keep the variants' order).
    cost: Callable[[dict[str, Any]], float] | None = gan_trial_cost
    gan_trials: bool = True  # trial configs are GANConfigs: their memory is checked before the study starts
    # A paper's figures for some variants, for the report's comparison (analysis.published): {variant, metric,
    # value, se, source} each, in the project's units.
    published: list[dict[str, Any]] = field(default_factory=list)

    def run_order(self) -> list[str]:
        """The variant labels, costliest first (ties keep the study's order): the slowest trials start first,
        so that none of them runs alone at the end while the other workers idle."""
        if self.cost is None:
            return list(self.variants)
        costs = self.variant_costs()
        return sorted(self.variants, key=lambda label: -costs[label])

    def variant_costs(self) -> dict[str, float]:
        """Each variant's estimated cost of one seed (1 each where the study has no cost model)."""
        if self.cost is None:
            return {label: 1.0 for label in self.variants}
        return {label: self.cost({**self.base, **changes}) for label, changes in self.variants.items()}

    def param_space(self, members: int = 1) -> dict[str, Any]:
        return space_mod.param_space(self.base, self.variants, self.seeds, self.searched, order=self.run_order(),
                                     members=members)

    def n_trials(self, members: int = 1) -> int:
        """How many trials the study starts (``members`` > 1: population trials of that many seeds at most)."""
        if self.searched:
            return self.num_samples
        if members > 1 and len(self.seeds) > 1:
            return len(self.variants) * len(seed_chunks(self.seeds, members))
        return len(self.variants) * max(1, len(self.seeds))

    @cached_property
    def design(self) -> list[StudyTrial]:
        """The study's trials, one seed each, typed, each config checked by ``validate`` (ValueError naming the
        first bad trial): built once, before Ray starts. A search's are its grid and one trial per bound or category
        of each searched key (``studies.space.design_trials``), which stand for the trials its searcher will choose.
        """
        trials = space_mod.design_trials(self.base, self.variants, self.seeds, self.searched)
        space_mod.validate_trials(trials, self.validate)
        return trials

    def trials(self, members: int = 1) -> list[StudyTrial]:
        """``design`` as the trials Ray runs: populations of at most ``members`` seeds (``param_space(members)``
        generates exactly their ``tune_config()``; a test checks it)."""
        return populations(self.design, members)


@dataclass
class StudyRun:
    """What a finished (or interrupted) study left: where, Ray's ResultGrid, the report files."""

    location: ExperimentDir
    result_grid: Any
    report_paths: list[str]
    n_errors: int
    metric: str
    mode: str
    unfinished: int = 0  # trials neither finished nor failed: the study was interrupted (Ctrl+C)
    resume: str = ""     # the command that continues it
    stalled: str = ""    # why the watchdog stopped it: its trials waited for a node that never came

    @property
    def exit_code(self) -> int:
        if self.stalled:
            return EXIT_FAILED
        return EXIT_INTERRUPTED if self.unfinished else EXIT_FAILED if self.n_errors else 0


def resolve_base(partial: dict[str, Any]) -> tuple[GANConfig, dict[str, Any]]:
    """The study's base config, strictly built, and its complete flat dict (every key, dataset defaults applied),
    so that each trial's params.json holds the whole configuration and not only what the study changed."""
    try:
        cfg = GANConfig.from_flat(partial)
    except ValueError as e:
        raise StudyInputError(f"invalid base config: {e}") from None
    return cfg, cfg.to_flat()
