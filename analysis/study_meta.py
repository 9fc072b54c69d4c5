"""``study.json``: what a study says of itself (its metric and direction, baseline, variants, factors, command,
search, published figures and the better direction of each of its quality metrics), read strictly."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from analysis.fsio import Location, ResultsError
from analysis.published import check_published
from gan_core.metrics.modes import METRIC_MODES

__all__ = ["StudyMeta", "evaluator_metric_modes", "read_meta"]


def evaluator_metric_modes() -> dict[str, str]:
    """Every quality metric's better direction as gan_core's evaluators define them: for a results directory whose
    study.json does not record them (a directory without study.json, or one written by hand)."""
    return dict(METRIC_MODES)


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
    # each quality metric's better direction, in table order: study.json's record, else gan_core's table
    metric_modes: dict[str, str] = field(default_factory=dict)

    def metric_mode(self, metric: str) -> str:
        """The better direction of ``metric``: the study's own for its primary metric."""
        return self.mode if metric == self.primary_metric else self.metric_modes.get(metric, "min")


def read_meta(loc: Location, names: set[str], notes: list[str]) -> StudyMeta:
    if "study.json" not in names:
        notes.append("study.json is missing: the primary metric, its direction and the baseline were inferred")
        return StudyMeta(name=loc.name, primary_metric="", mode="",  # metric filled in by present_metrics
                         metric_modes=evaluator_metric_modes())
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
    metric_modes = _metric_modes(d, loc)
    return StudyMeta(
        name=str(d.get("study") or loc.name),
        primary_metric=primary,
        mode=mode or metric_modes.get(primary, ""),
        baseline_variant=baseline_variant if isinstance(baseline_variant, str) else None,
        variants={str(k): (v if isinstance(v, dict) else {}) for k, v in variants.items()},
        baseline=baseline if isinstance(baseline, dict) else {},
        factors=[str(f) for f in factors] if isinstance(factors, list) and factors else None,
        command=[str(c) for c in d.get("command") or []],
        search={str(k): str(v) for k, v in search.items()} if isinstance(search := d.get("search"), dict) else {},
        published=published,
        metric_modes=metric_modes,
    )


def _metric_modes(d: dict[str, Any], loc: Location) -> dict[str, str]:
    """study.json's ``metric_modes`` (metric -> "min" | "max"), strictly; gan_core's where it has none."""
    if "metric_modes" not in d:
        return evaluator_metric_modes()
    got = d["metric_modes"]
    if not isinstance(got, dict) or not all(isinstance(k, str) and v in ("min", "max") for k, v in got.items()):
        raise ResultsError(f"{loc.join('study.json').uri!r}: 'metric_modes' = {got!r} is not allowed; allowed: an "
                           f"object of metric names to 'min' | 'max'")
    return dict(got)
