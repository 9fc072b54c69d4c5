"""``study.json``: what a study says of itself (its metric and direction, baseline, variants, factors, command,
search and published figures), read strictly; and the direction of every quality metric the evaluators report."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from analysis.fsio import Location, ResultsError
from analysis.published import check_published

__all__ = ["METRIC_MODES", "StudyMeta", "read_meta"]

# Quality metrics the evaluators report, with the direction that is better. Order = order in every table.
METRIC_MODES: dict[str, str] = {
    "fd": "min", "cis": "max", "precision": "max", "recall": "max", "density": "max", "coverage": "max",
    "classes_covered": "max", "class_kl": "min",
    "modes_captured": "max", "high_quality_frac": "max", "reverse_kl": "min",
    "jsd": "min", "jsd_estimate": "min", "parzen_ll": "max", "fid_inception": "min",
}
# ``diversity`` (generated spread / real spread, target 1) is a diagnostic, not a ranked quality metric: it is kept in
# the history and read by the stability assessment (collapse), but gets no summary or effect of its own.


@dataclass
class StudyMeta:
    """What ``study.json`` says (or what was inferred when it is missing: see ``notes``)."""

    name: str
    primary_metric: str
    mode: str
    baseline_variant: str | None = None
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)  # a config subset naming the baseline levels
    factors: list[str] | None = None
    command: list[str] = field(default_factory=list)
    search: dict[str, str] = field(default_factory=dict)  # a search's searcher and scheduler (empty: a design)
    published: list[dict[str, Any]] = field(default_factory=list)  # a paper's figures (analysis.published)


def read_meta(loc: Location, names: set[str], notes: list[str]) -> StudyMeta:
    if "study.json" not in names:
        notes.append("study.json is missing: the primary metric, its direction and the baseline were inferred")
        return StudyMeta(name=loc.name, primary_metric="", mode="")  # metric filled in by _present_metrics
    try:
        d = json.loads(loc.join("study.json").read_text())
    except json.JSONDecodeError as e:
        raise ResultsError(f"{loc.join('study.json').uri!r} is not valid JSON: {e}") from None
    if not isinstance(d, dict):
        raise ResultsError(f"{loc.join('study.json').uri!r} must hold a JSON object, got {type(d).__name__}")
    mode = d.get("mode", "")
    if mode not in ("min", "max", ""):
        raise ResultsError(f"study.json key 'mode' = {mode!r} is not allowed; allowed: 'min' | 'max'")
    primary = d.get("primary_metric", "")
    if not isinstance(primary, str):
        raise ResultsError(f"study.json key 'primary_metric' = {primary!r} must be a metric name")
    baseline_variant = d.get("baseline_variant")
    baseline = d.get("baseline")
    if isinstance(baseline, str) and baseline_variant is None:  # ARCHITECTURE.md's form: a variant label
        baseline_variant = baseline
    variants = d.get("variants") or {}
    if not isinstance(variants, dict):
        variants = {str(v): {} for v in variants} if isinstance(variants, list) else {}
    factors = d.get("factors")
    try:
        published = check_published(d["published"]) if d.get("published") is not None else []
    except ValueError as e:
        raise ResultsError(f"{loc.join('study.json').uri!r}: {e}") from None
    return StudyMeta(
        name=str(d.get("study") or loc.name),
        primary_metric=primary,
        mode=mode or METRIC_MODES.get(primary, ""),
        baseline_variant=baseline_variant if isinstance(baseline_variant, str) else None,
        variants={str(k): (v if isinstance(v, dict) else {}) for k, v in variants.items()},
        baseline=baseline if isinstance(baseline, dict) else {},
        factors=[str(f) for f in factors] if isinstance(factors, list) and factors else None,
        command=[str(c) for c in d.get("command") or []],
        search={str(k): str(v) for k, v in search.items()} if isinstance(search := d.get("search"), dict) else {},
        published=published,
    )
