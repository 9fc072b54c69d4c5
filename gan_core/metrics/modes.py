"""Each quality metric's better direction: pure Python (no torch), so that analysis can read it.

Every quality metric an evaluator reports, with the direction that is better, in the order of every table. The one
record of these directions: a study writes its evaluator's into study.json, which is where analysis reads them
(``analysis.study_meta``; this table only where a results directory has no record of them). Diagnostics
(top_share, diversity, g_mu, g_sigma, parzen_ll_se, parzen_sigma) have no direction: they are not ranked, and are
read by the stability assessment or shown beside their metric.
"""
from __future__ import annotations

__all__ = ["METRIC_MODES"]

METRIC_MODES: dict[str, str] = {
    "fd": "min", "cis": "max", "precision": "max", "recall": "max", "density": "max", "coverage": "max",
    "classes_covered": "max", "class_kl": "min",
    "modes_captured": "max", "high_quality_frac": "max", "reverse_kl": "min",
    "jsd": "min", "jsd_estimate": "min", "parzen_ll": "max", "fid_inception": "min",
}
