"""The design of a study: its factors, their levels (read off the trials' configs) and baselines.

The levels are what the trials ran, from their params.json, not what the script meant to run; seeds are
replicates, pooled. A study with variants (the architecture ablation) has one factor, ``variant``,
whose levels are the variants and whose baseline is ``study.json``'s ``baseline_variant``. A learning rate drawn
from a continuous range has almost one value per trial, so keys with many distinct float values are binned by
decade of their value (``1e-04..1e-03``), or by quartile when all values fall in one decade.

study.json is the record of a study's design: where it names the factors, they are the factors, and where it names
a baseline (``baseline_variant``, ``baseline``) that is the baseline, even when no trial of it is in the results
(an interrupted study whose costliest variants ran first): guessing one from the trials that happen to be present
would compare against another configuration than the study's, so such a baseline is noted and its comparisons have
no baseline seeds. Only a directory without them has its design read off the configs: the keys that vary, and as
baseline the GANConfig default for the study's dataset (k = 1, g_loss = non_saturating, lr = the dataset's default
rate), else the most common level.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from analysis.study_meta import StudyMeta
from analysis.trial_frame import CONFIG_KEYS
from gan_core.config import BASE_DEFAULTS, GANConfig

MAX_LEVELS_UNBINNED = 6  # a float key with more distinct values than this is binned
NOT_FACTORS = ("seed",)


@dataclass
class Factor:
    """One thing a study varies. ``column`` holds each trial's level label (a string) in the trials frame."""

    name: str
    column: str
    levels: list[str]
    baseline: str
    binned: bool = False
    how_baseline: str = ""

    @property
    def others(self) -> list[str]:
        return [lv for lv in self.levels if lv != self.baseline]


@dataclass
class Design:
    factors: list[Factor]
    config_columns: list[str]       # level columns that together name a configuration
    baseline_config: str | None     # label of the configuration with every factor at its baseline
    changes: dict[str, str] = field(default_factory=dict)  # variant label -> "key=value, ..." it changes
    notes: list[str] = field(default_factory=list)

    def factor(self, name: str) -> Factor | None:
        return next((f for f in self.factors if f.name == name), None)


def level_label(value: Any) -> str:
    """The text of one level: bools and strings as they are, numbers compactly (2e-04, 5, 0.5)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isfinite(v) and v == int(v) and abs(v) < 1e6:
            return str(int(v)) if abs(v) >= 1 else f"{v:g}"
        if v != 0 and abs(v) < 1e-2:  # learning rates: 2e-04, 4.43e-04
            mantissa, exponent = f"{v:.2e}".split("e")
            return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"
        return f"{v:.3g}"
    return str(value)


def infer_design(trials: pd.DataFrame, meta: StudyMeta) -> tuple[pd.DataFrame, Design]:
    """Add level columns and a ``configuration`` column to ``trials``; return it with the study's design."""
    trials = trials.copy()
    notes: list[str] = []
    candidates = [c for c in (*CONFIG_KEYS, "variant") if c in trials.columns and c not in NOT_FACTORS]
    if meta.factors:
        missing = [f for f in meta.factors if f not in trials.columns]
        if missing:
            notes.append(f"study.json names factor(s) {', '.join(missing)} that no trial's params.json holds")
        keys = [f for f in meta.factors if f in trials.columns]  # study.json's design, as it is
    else:  # a directory without study.json's factors: the design is read off the configs
        keys = [c for c in candidates if trials[c].astype(str).nunique() > 1]
        if "variant" in keys:
            # keys that the variants explain are not factors of their own; keys varying within a variant are
            within = [k for k in keys if k != "variant"
                      and (trials.groupby("variant")[k].agg(lambda s: s.astype(str).nunique()) > 1).any()]
            keys = ["variant", *within]
    has_variants = "variant" in keys
    factors = [_factor(trials, key, meta, notes) for key in keys]
    config_columns = [f.column for f in factors]
    trials["configuration"] = _config_labels(trials, factors)
    baseline_config = _join_labels({f.name: f.baseline for f in factors}, factors) if factors else "all"
    if baseline_config not in set(trials["configuration"]):
        baseline_config = None
    changes = _variant_changes(trials, meta, factors[0] if has_variants else None)
    return trials, Design(factors, config_columns, baseline_config, changes, notes)


def _factor(trials: pd.DataFrame, key: str, meta: StudyMeta, notes: list[str]) -> Factor:
    values = trials[key]
    label = level_label
    binned = key != "variant" and pd.api.types.is_float_dtype(values) and values.nunique() > MAX_LEVELS_UNBINNED
    if binned:
        column = f"{key}_bin"
        labels, order, edges = _bins(values.astype(float))
        trials[column] = labels
    else:
        column = f"{key}_level"
        if values.map(level_label).nunique() < values.nunique():  # two values print alike (1 and 1.000004):
            label = _full_label                                  # levels, order and baseline spelt out in full
        trials[column] = values.map(label)
        order = _ordered_levels(values, label) if key != "variant" else _variant_order(values, meta)
        edges = None
    baseline, how = _baseline_level(trials, key, column, order, meta, edges, label)
    if baseline not in order:
        notes.append(f"factor {key}: no trial of its baseline level {baseline} ({how}) is in these results: "
                     f"its comparisons have no baseline seeds")
    elif not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        order = [baseline] + [lv for lv in order if lv != baseline]  # unordered levels: the baseline first
    if how.startswith("most common"):
        notes.append(f"factor {key}: no baseline level given or found at the default; using {how}")
    return Factor(key, column, order, baseline, binned, how)


def _full_label(value: Any) -> str:
    return repr(value.item() if hasattr(value, "item") else value)


def _ordered_levels(values: pd.Series, label: Callable[[Any], str] = level_label) -> list[str]:
    uniq = values.dropna().unique().tolist()
    try:
        uniq = sorted(uniq)
    except TypeError:
        uniq = sorted(uniq, key=str)
    return [label(v) for v in uniq]


def _variant_order(values: pd.Series, meta: StudyMeta) -> list[str]:
    present = set(values.astype(str))
    declared = [v for v in meta.variants if v in present]
    return declared + sorted(present - set(declared))


def _bins(values: pd.Series) -> tuple[pd.Series, list[str], list[float]]:
    """Decade bins of positive values (quartiles when they span one decade): labels, ordered levels, edges."""
    v = values.to_numpy(dtype=float)
    lo = math.floor(math.log10(np.nanmin(v)) + 1e-9)
    hi = math.floor(math.log10(np.nanmax(v)) + 1e-9) + 1
    if np.nanmin(v) > 0 and hi - lo >= 2:
        edges = [10.0 ** e for e in range(lo, hi + 1)]
    else:
        edges = sorted(set(np.nanquantile(v, [0, 0.25, 0.5, 0.75, 1]).tolist()))
        edges[-1] = np.nextafter(edges[-1], np.inf)
    labels = pd.Series([bin_label(x, edges) for x in v], index=values.index)
    used = [n for n in (bin_label(a, edges) for a in edges[:-1]) if n in set(labels)]
    return labels, used, edges


def bin_label(value: float, edges: list[float]) -> str:
    """The label of the bin [a, b) of ``edges`` holding ``value`` (the ends clip to the outer bins)."""
    i = int(np.clip(np.searchsorted(edges, float(value), side="right") - 1, 0, len(edges) - 2))
    a, b = edges[i], edges[i + 1]
    decades = edges[0] > 0 and all(math.isclose(math.log10(e), round(math.log10(e))) for e in edges)
    return f"{a:.0e}..{b:.0e}" if decades else f"{a:.2g}..{b:.2g}"


def _dataset_defaults(trials: pd.DataFrame) -> dict[str, Any]:
    if "dataset" in trials.columns and trials["dataset"].notna().any():
        try:
            return GANConfig.from_flat({"dataset": str(trials["dataset"].mode().iloc[0])}).to_flat()
        except ValueError:
            pass
    return dict(BASE_DEFAULTS)


def _baseline_level(trials: pd.DataFrame, key: str, column: str, order: list[str], meta: StudyMeta,
                    edges: list[float] | None, label: Callable[[Any], str] = level_label) -> tuple[str, str]:
    def as_label(value: Any) -> str:
        return label(value) if edges is None else bin_label(value, edges)

    if key == "variant":
        if meta.baseline_variant is not None:  # study.json's word, whether or not a trial of it is here
            return meta.baseline_variant, "study.json baseline_variant"
        for cand, how in (("baseline", "label 'baseline'"),
                          *((v, "the variant that changes nothing") for v, ch in meta.variants.items() if not ch)):
            if cand in order:
                return cand, how
    else:
        if key in meta.baseline:  # study.json's word, whether or not a trial of it is here
            return as_label(meta.baseline[key]), "study.json baseline"
        default = _dataset_defaults(trials).get(key) if not meta.factors else None  # inferred designs only
        if default is not None and as_label(default) in order:
            return as_label(default), "the config default"
    counts = trials[column].value_counts()
    best = max(order, key=lambda lv: (counts.get(lv, 0), -order.index(lv)))
    return best, f"most common level {best!r}"


def _join_labels(levels: dict[str, str], factors: list[Factor]) -> str:
    if len(factors) == 1 and factors[0].name == "variant":
        return levels["variant"]
    return ", ".join(f"{f.name}={levels[f.name]}" for f in factors)


def _config_labels(trials: pd.DataFrame, factors: list[Factor]) -> pd.Series:
    if not factors:
        return pd.Series("all", index=trials.index)
    return trials.apply(lambda r: _join_labels({f.name: r[f.column] for f in factors}, factors), axis=1)


def _variant_changes(trials: pd.DataFrame, meta: StudyMeta, factor: Factor | None) -> dict[str, str]:
    """What each variant changes against the baseline variant: study.json's word, else read off the configs."""
    if factor is None:
        return {}
    out = {}
    keys = [k for k in CONFIG_KEYS if k in trials.columns and k not in NOT_FACTORS]
    base = trials[trials["variant"].astype(str) == factor.baseline]
    for level in factor.levels:
        declared = meta.variants.get(level)
        if declared:
            out[level] = ", ".join(f"{k}={level_label(v)}" for k, v in declared.items())
            continue
        rows = trials[trials["variant"].astype(str) == level]
        diffs = []
        for k in keys:
            mine, theirs = rows[k].astype(str).unique(), base[k].astype(str).unique()
            if len(mine) == 1 and len(theirs) == 1 and mine[0] != theirs[0]:
                diffs.append(f"{k}={level_label(rows[k].iloc[0])}")
        out[level] = ", ".join(diffs)
    return out
