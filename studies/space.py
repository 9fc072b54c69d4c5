"""A study's trials as a Ray Tune search space: named variants x seeds, plus optional searched keys.

Why this shape: every study compares named configurations ("variants": a label and the config keys it changes
against the shared base) over seeds; a variant often changes several keys at once (``all_off`` flips seven
switches), which a plain product of ``tune.grid_search`` cannot express. So the space is a grid over ``variant``
and ``seed``, and each key some variant changes is a ``tune.sample_from`` that looks its value up from the
trial's variant. Every trial's ``params.json`` then holds the complete flat config (the analysis needs nothing
else), and Ray's progress table shows the variant, the seed and the keys that vary.

``design_trials`` lists the same trials without Ray, typed (``studies.trial.StudyTrial``), so that every one is
validated before Ray starts; a test expands the space with Tune's own generator and gets exactly their
``tune_config()``.

A population trial (``studies.members``) trains a chunk of a variant's seeds together: the grid is then over
``members`` (the chunk: a list of seeds) instead of ``seed``, and ``seed`` is its first member's, so that the trial
config is still a complete GANConfig (``FirstMember``); the trainable trains one member per seed of ``members``.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping, Sequence

from ray import tune
from ray.tune.search.sample import Categorical, Domain, Float, Integer

from studies.members import seed_chunks
from studies.trial import MEMBERS_KEY, VARIANT_KEY, StudyTrial


class FirstMember:
    """A population trial's ``seed``: its first member's (a picklable ``tune.sample_from`` function)."""

    def __call__(self, config: Mapping[str, Any]) -> int:
        return config[MEMBERS_KEY][0]

    def __repr__(self) -> str:
        return "FirstMember()"


class VariantValue:
    """The value of one config key for the trial's variant (a picklable ``tune.sample_from`` function)."""

    def __init__(self, key: str, values: Mapping[str, Any]):
        self.key = key
        self.values = dict(values)

    def __call__(self, config: Mapping[str, Any]) -> Any:
        return self.values[config[VARIANT_KEY]]

    def __repr__(self) -> str:
        return f"VariantValue({self.key!r})"


def variant_table(base: Mapping[str, Any], variants: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """key -> {variant label -> value} for every key that some variant changes."""
    changed = sorted({k for ch in variants.values() for k in ch})
    table: dict[str, dict[str, Any]] = {}
    for key in changed:
        if key in (VARIANT_KEY, "seed"):
            raise ValueError(f"a variant may not change {key!r}: it is set by the study")
        if key not in base:
            raise ValueError(f"variant key {key!r} is not in the base config")
        table[key] = {label: (ch[key] if key in ch else base[key]) for label, ch in variants.items()}
    return table


def param_space(base: Mapping[str, Any], variants: Mapping[str, Mapping[str, Any]], seeds: Iterable[int],
                searched: Mapping[str, Domain] | None = None, order: Sequence[str] | None = None,
                members: int = 1) -> dict[str, Any]:
    """The Tune ``param_space``: base keys, a grid over variant (and seed, if any), variant-dependent keys.

    Tune starts a grid's trials variant by variant, in the grid's order (seeds vary fastest); ``order`` (every
    variant label once) sets that order, for example the costliest variants first. ``members`` > 1: a grid over
    chunks of that many seeds (``studies.members.seed_chunks``), one population trial each."""

    space: dict[str, Any] = dict(base)
    labels = list(variants)
    if order is not None:
        if sorted(order) != sorted(labels):
            raise ValueError(f"order {list(order)} must list every variant once: {labels}")
        labels = list(order)
    space[VARIANT_KEY] = tune.grid_search(labels) if len(labels) > 1 else labels[0]
    seeds = list(seeds)
    if members > 1 and len(seeds) > 1:
        chunks = seed_chunks(seeds, members)
        space[MEMBERS_KEY] = tune.grid_search(chunks) if len(chunks) > 1 else chunks[0]
        space["seed"] = tune.sample_from(FirstMember())
    elif len(seeds) > 1:
        space["seed"] = tune.grid_search(seeds)
    elif seeds:
        space["seed"] = seeds[0]
    for key, values in variant_table(base, variants).items():
        space[key] = tune.sample_from(VariantValue(key, values))
    for key, domain in (searched or {}).items():
        if key not in base:
            raise ValueError(f"searched key {key!r} is not in the base config")
        space[key] = domain
    return space


def design_trials(base: Mapping[str, Any], variants: Mapping[str, Mapping[str, Any]], seeds: Iterable[int],
                  searched: Mapping[str, Domain] | None = None) -> list[StudyTrial]:
    """Every trial of the space, one seed each, variant by variant (seeds vary fastest); with no ``seeds``, the
    base's seed. A searched key adds one trial per bound or category of its range (``domain_probe_values``), with
    the other keys as the grid's: they stand for the search when the design is validated and recorded."""
    seeds = list(seeds)
    grid = [StudyTrial(label, (s,), {**base, **changes, "seed": s}) if seeds else
            StudyTrial(label, (base["seed"],), {**base, **changes})
            for label, changes in variants.items() for s in (seeds or [None])]
    out = list(grid)
    for key, domain in (searched or {}).items():
        for value in domain_probe_values(key, domain):
            out.extend(StudyTrial(t.variant, t.seeds, {**t.config, key: value}) for t in grid)
    return out


def domain_probe_values(key: str, domain: Domain) -> list[Any]:
    """Values that stand for a whole search dimension when validating it: both bounds, or every category."""
    if isinstance(domain, Categorical):
        return list(domain.categories)
    if isinstance(domain, Float):
        lo, hi = domain.lower, domain.upper
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"searched key {key!r} needs finite bounds, got [{lo}, {hi}]; allowed: finite lower "
                             f"and upper bounds")
        return [float(lo), float(hi)]
    if isinstance(domain, Integer):
        return [int(domain.lower), int(domain.upper) - 1]  # Ray's integer upper bound is exclusive
    raise ValueError(f"searched key {key!r}: cannot validate a {type(domain).__name__} domain before the run; "
                     f"allowed: tune.uniform/loguniform/quniform, tune.randint/lograndint, tune.choice")


def validate_trials(trials: Iterable[StudyTrial], validate: Callable[[dict[str, Any]], Any]) -> int:
    """Run ``validate`` on each trial's config; ValueError naming the trial on the first bad one."""
    n = 0
    for trial in trials:
        try:
            validate(dict(trial.config))
        except ValueError as e:
            raise ValueError(f"invalid trial config ({trial.label()}): {e}") from None
        n += 1
    return n


def set_by_the_study(given: Mapping[str, Any], variants: Mapping[str, Mapping[str, Any]],
                     searched: Mapping[str, Any], seeds: Sequence[int]) -> list[str]:
    """The keys of ``given`` (``--set``) that the study sets per trial itself, sorted: a key some variant changes,
    a searched key, and ``seed`` when the study has seeds. A ``--set`` of such a key would be replaced without a
    word, so the runner refuses it."""
    varied = {k for changes in variants.values() for k in changes} | set(searched) | ({"seed"} if seeds else set())
    return sorted(set(given) & varied)
