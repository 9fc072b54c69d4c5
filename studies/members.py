"""How many seeds of a variant one trial trains together as a population (``gan_core.population``):
``--members-per-trial N`` or ``auto``.

Why a rule and not always "all seeds": a population is faster only where the batched kernels beat one member's
(``benchmarks/population.py``). On a GPU a small GAN is launch-bound, so stacking seeds is the point. On a CPU only
small networks gain: a larger network is compute-bound, and a batched kernel then costs per member what the solo
one does, so it gains nothing or loses, and image networks lose (the figures per network, in MFLOP an iteration,
and what the studies make of them: benchmarks/RESULTS.md, section "Populations"). So on a CPU ``auto`` stacks only
when every variant's iteration is at most ``AUTO_CPU_MAX_FLOPS`` and no trial is an image trial (one number for
the whole study: the space is a grid over chunks of seeds). Stacking also costs parallelism: 10 seeds in one trial
run on one worker while the others idle. So on a CPU ``auto`` cuts each variant's seeds into as few chunks as give
every worker at least two trials (two, so that variants of unequal cost still even out), and at most
``AUTO_CPU_MAX`` members a trial, where the measured gain stops growing.

Never a population, whatever the option says: a study whose searcher or scheduler chooses or stops trials one by
one (Optuna, ASHA: a population is one trial to them, its members all stopped or all kept), a study whose trials
are not GAN runs (the theory check) and configs that set a key a population cannot run (``Knob.population``:
dropout; ``Population`` refuses it). An explicit N > 1 for those is refused in one line; ``auto`` quietly means 1.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from gan_core.config import GANConfig
from gan_core.cost import iteration_flops
from gan_core.knobs import population_refusals
from studies.cli import MEMBERS_AUTO as AUTO, StudyInputError
from studies.trial import StudyTrial

AUTO_CPU_MAX = 8  # where the CPU gain stops growing (benchmarks/RESULTS.md, "Populations")
AUTO_GPU_MAX = 128  # the largest N the GPU benchmark measures
AUTO_CPU_MAX_FLOPS = 400e6  # per member iteration (gan_core.cost): between the sizes measured faster and slower
#                             (benchmarks/RESULTS.md, "Populations")


def why_solo(configs: Iterable[Mapping[str, Any]], searched: bool, gan_trials: bool) -> str | None:
    """Why these trials must run one seed each (a clause), or None when populations may host them."""
    if searched:
        return "its searcher or scheduler chooses and stops trials one by one"
    if not gan_trials:
        return "its trials are not GAN runs"
    for flat in configs:
        for knob, _, _ in population_refusals(flat):  # the first one says it
            return f"its configs use {knob.solo_why}"
    return None


def members_per_trial(choice: int | str, configs: list[dict[str, Any]], n_seeds: int, searched: bool,
                      gan_trials: bool, gpus_per_trial: float, workers: int, study: str) -> int:
    """The members of each population trial (1: one seed a trial, as before populations).

    ``configs`` are the study's trial configs without study keys (one per variant and seed), ``workers`` how many
    trials run side by side. An explicit N larger than the seeds of a variant is cut to them."""
    solo = why_solo(configs, searched, gan_trials)
    if choice != AUTO:
        if choice > 1 and solo is not None:
            raise StudyInputError(f"--members-per-trial {choice}: study {study!r} runs one seed per trial "
                                  f"({solo}); allowed: --members-per-trial 1 or auto")
        return max(1, min(int(choice), n_seeds))
    if solo is not None or n_seeds <= 1:
        return 1
    if gpus_per_trial > 0:
        return min(n_seeds, AUTO_GPU_MAX)
    cfgs = [GANConfig.from_flat(flat) for flat in configs]
    if any(c.is_image or iteration_flops(c) > AUTO_CPU_MAX_FLOPS for c in cfgs):
        return 1  # a DCGAN, an image MLP or a large 2D network on a CPU: populations measured no faster
    variants = max(1, len(configs) // n_seeds)
    chunks = min(n_seeds, math.ceil(2 * workers / variants))  # chunks per variant: >= 2 trials per worker
    return max(1, min(AUTO_CPU_MAX, math.ceil(n_seeds / chunks)))


def spec_members(spec: Any, choice: int | str, gpus_per_trial: float, workers: int) -> int:
    """``members_per_trial`` for the design of a ``studies.spec.StudySpec`` (its one-seed trials)."""
    configs = [dict(t.config) for t in spec.design]
    searched = bool(spec.searched) or spec.make_searcher is not None or spec.make_scheduler is not None
    return members_per_trial(choice, configs, len(spec.seeds), searched, spec.gan_trials, gpus_per_trial, workers,
                             spec.study)


def populations(trials: Iterable[StudyTrial], members: int) -> list[StudyTrial]:
    """The one-seed ``trials`` as population trials of at most ``members`` seeds (``seed_chunks`` of each variant's
    seeds, in the variants' order); ``members`` 1, or one seed a variant: the trials themselves. The seeds of a
    variant differ only in their seed, so a population's config is its first member's."""
    trials = list(trials)
    if members <= 1 or len({t.variant for t in trials}) == len(trials):
        return trials
    by_variant: dict[str, list[StudyTrial]] = {}
    for t in trials:
        by_variant.setdefault(t.variant, []).append(t)
    out = []
    for variant, solo in by_variant.items():
        config = {seed: t.config for t in solo for seed in t.seeds}
        out.extend(StudyTrial(variant, tuple(chunk), config[chunk[0]], population=True)
                   for chunk in seed_chunks([s for t in solo for s in t.seeds], members))
    return out


def seed_chunks(seeds: Iterable[int], members: int) -> list[list[int]]:
    """The seeds in as few consecutive chunks of at most ``members`` as there can be, their sizes differing by at
    most one (10 seeds at 3: 3, 3, 2, 2, not 3, 3, 3, 1): one population trial each."""
    seeds = list(seeds)
    n = math.ceil(len(seeds) / members)
    size, extra = divmod(len(seeds), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(seeds[start:end])
        start = end
    return out
