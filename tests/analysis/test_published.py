"""A study's results beside a paper's figures: the interval, the inside verdict, bad published rows, markdown."""
from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from analysis.published import check_published, compare, markdown

ROW = {"variant": "gan", "metric": "modes_captured", "value": 6.3, "se": 0.5, "source": "PacGAN Table 1"}


def summary_of(values: dict[str, list[float]]) -> pd.DataFrame:
    """A summary frame as analysis.summary builds it: mean, t interval and count of each configuration."""
    rows = []
    for label, x in values.items():
        s = pd.Series(x, dtype=float)
        half = stats.t.ppf(0.975, len(x) - 1) * s.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else math.nan
        rows.append({"configuration": label, "modes_captured_mean": s.mean(), "modes_captured_ci_low": s.mean() - half,
                     "modes_captured_ci_high": s.mean() + half, "modes_captured_n": len(x)})
    return pd.DataFrame(rows)


def test_compare_sets_our_interval_beside_each_published_figure():
    summary = summary_of({"gan": [6.0, 7.0, 8.0, 6.0, 7.0], "pacgan2": [8.0, 8.0, 8.0, 7.0, 8.0]})
    published = [ROW, {**ROW, "variant": "pacgan2", "value": 6.3, "se": None, "source": "elsewhere"}]
    table = compare(summary, published)
    half = stats.t.ppf(0.975, 4) * pd.Series([6.0, 7.0, 8.0, 6.0, 7.0]).std(ddof=1) / math.sqrt(5)
    gan = table.iloc[0]
    assert (gan["variant"], gan["published"], gan["published_se"], gan["n_seeds"]) == ("gan", 6.3, 0.5, 5)
    assert (gan["ours_mean"], gan["ours_ci_low"], gan["ours_ci_high"]) == \
        pytest.approx((6.8, 6.8 - half, 6.8 + half))
    assert table["inside"].tolist() == [True, False]  # 6.3 in [5.76, 7.84]; 6.3 below [7.24, 8.36]
    assert list(table.columns) == ["variant", "metric", "source", "published", "published_se", "ours_mean",
                                   "ours_ci_low", "ours_ci_high", "n_seeds", "inside"]


def test_one_seed_or_a_missing_variant_gives_no_verdict():
    table = compare(summary_of({"gan": [6.0]}), [ROW, {**ROW, "variant": "veegan"}])
    assert table["inside"].tolist() == [None, None]
    assert table["n_seeds"].tolist() == [1, 0]
    assert math.isnan(table.iloc[1]["ours_mean"])


def test_markdown_shows_the_published_figure_with_its_error_and_ours_with_its_interval():
    lines = markdown(compare(summary_of({"gan": [6.0, 7.0, 8.0, 6.0, 7.0]}), [ROW, {**ROW, "se": None}]))
    assert lines[0] == "| variant | metric | published | ours: mean [95% CI] | seeds | inside | source |"
    assert lines[2] == "| gan | modes_captured | 6.3 +- 0.5 | 6.8 [5.76, 7.84] | 5 | yes | PacGAN Table 1 |"
    assert lines[3] == "| gan | modes_captured | 6.3 | 6.8 [5.76, 7.84] | 5 | yes | PacGAN Table 1 |"


@pytest.mark.parametrize("bad, says", [
    ({"rows": []}, "allowed: a list"),
    ([{**ROW, "extra": 1}], "exactly the keys"),
    ([{k: v for k, v in ROW.items() if k != "se"}], "exactly the keys"),
    ([{**ROW, "value": "6.3"}], "value a number"),
    ([{**ROW, "value": True}], "value a number"),
    ([{**ROW, "se": "0.5"}], "se a number or null"),
    ([{**ROW, "variant": 3}], "as text"),
])
def test_bad_published_rows_are_refused_in_one_line(bad, says):
    with pytest.raises(ValueError, match=says) as err:
        check_published(bad)
    assert "\n" not in str(err.value)


def test_good_rows_pass_unchanged():
    assert check_published([ROW, {**ROW, "se": None}]) == [ROW, {**ROW, "se": None}]
