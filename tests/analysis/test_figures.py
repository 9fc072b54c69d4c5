"""Which figures a report draws: file names from labels, the best and worst seeds, and what a search gets."""
from __future__ import annotations

import pandas as pd

from analysis.figures import _rank, slug


def test_slug_keeps_readable_characters_only():
    assert slug("net-veegan_opt-pacgan_alt") == "net-veegan_opt-pacgan_alt"
    assert slug("k=1, g_loss=minimax") == "k=1_g_loss=minimax"
    assert slug("///") == "all"
    assert len(slug("x" * 200)) == 80


def test_seeds_are_ranked_best_first_with_non_finite_values_last():
    trials = pd.DataFrame({"trial_dir": ["a", "b", "c", "d", "e"], "checkpoint": ["c1", "c1", "", "c1", "c1"],
                           "final_fd": [30.0, 10.0, 1.0, float("inf"), 20.0]})
    assert _rank(trials, "fd", "min")["trial_dir"].tolist() == ["b", "e", "a", "d"]  # c has no checkpoint
    assert _rank(trials, "fd", "max")["trial_dir"].tolist() == ["a", "e", "b", "d"]


def test_a_sample_title_says_why_a_run_failed():
    from analysis.figures import _how_it_ended

    collapsed = pd.Series({"status": "ok", "stability": "collapsed",
                           "stability_reason": "top_share = 1 >= 0.9; diversity = 0.0239 < 0.05"})
    assert _how_it_ended(collapsed) == "collapsed: top_share = 1 >= 0.9; diversity = 0.0239 < 0.05"
    assert _how_it_ended(pd.Series({"status": "ok", "stability": "stable", "stability_reason": "no failure found"})) \
        == "stable"
    assert _how_it_ended(pd.Series({"status": "error", "stability": "", "stability_reason": ""})) == "error"
