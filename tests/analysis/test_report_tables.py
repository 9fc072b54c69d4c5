"""report.md's tables print each interval clipped to its metric's range, with a note under a table where that moved
one; the CSV files keep every interval as computed."""
import math

import pandas as pd
import pytest
from scipy import stats

from analysis.report import write_report

T2 = stats.t.ppf(0.975, 2)  # Student's t quantile of a 95% interval over 3 seeds
# ring8: gan's modes_captured 6 +- 2 T2 (sd sqrt(12), se 2) runs past 8 and below 0, its high_quality_frac
# 0.3 +- 0.2 T2 below 0 and past 1; pacgan2 has no spread, so the effect 2 +- 2 T2 runs past +8
MODES = {"gan": [8.0, 2.0, 8.0], "pacgan2": [8.0, 8.0, 8.0]}
HIGH_QUALITY = {"gan": [0.1, 0.7, 0.1], "pacgan2": [0.9, 0.9, 0.9]}
SUMMARY_NOTE = "Intervals are clipped to each metric's range; summary.csv holds them as computed."
PUBLISHED_NOTE = "Intervals are clipped to each metric's range; published.csv holds them as computed."
EFFECTS_NOTE = ("Intervals are clipped to the range a difference of the metric can take; effects.csv holds them as "
                "computed.")
PUBLISHED = [{"variant": "gan", "metric": "modes_captured", "value": 6.3, "se": 0.5, "source": "PacGAN"},
             {"variant": "gan", "metric": "high_quality_frac", "value": 0.982, "se": 0.002, "source": "PacGAN"}]


def ring8_report(synth):
    from gan_core.config import GANConfig

    trials = []
    for variant, pack in (("gan", 1), ("pacgan2", 2)):
        for seed in range(3):
            p = {**GANConfig.from_flat({"dataset": "ring8", "pack": pack, "seed": seed}).to_flat(), "variant": variant}
            final = {"modes_captured": MODES[variant][seed], "high_quality_frac": HIGH_QUALITY[variant][seed]}
            trials.append({"params": p, "rows": synth.trial_rows(p, final)})
    study = {"study": "mode_collapse", "primary_metric": "modes_captured", "mode": "max", "baseline_variant": "gan",
             "variants": {"gan": {}, "pacgan2": {"pack": 2}}, "published": PUBLISHED}
    return write_report(str(synth.write("ring", trials, study)), sample_figures=False)


def test_a_ring8_report_prints_intervals_clipped_to_each_range_and_says_so_under_each_such_table(synth):
    out = ring8_report(synth)
    lines = (out / "report.md").read_text().splitlines()

    gan_row = "| gan | 3/3 | 100% [44%, 100%] | 6.00 [0, 8.00] | n/a | 0.300 [0, 1.00] | "
    pacgan_row = "| pacgan2 | 3/3 | 100% [44%, 100%] | 8.00 [8.00, 8.00] | n/a | 0.900 [0.900, 0.900] | "
    at = next(i for i, ln in enumerate(lines) if ln.startswith("| gan | 3/3 |"))
    assert lines[at].startswith(gan_row) and lines[at + 1].startswith(pacgan_row)
    assert lines[at + 2:at + 4] == ["", SUMMARY_NOTE]
    assert any(ln.startswith("- **gan**: modes_captured 6.00 [0, 8.00] over 3 seeds; ") for ln in lines)

    at = lines.index("| gan | modes_captured | 6.3 +- 0.5 | 6 [0, 8] | 3 | yes | PacGAN |")
    assert lines[at + 1:at + 4] == ["| gan | high_quality_frac | 0.982 +- 0.002 | 0.3 [0, 1] | 3 | yes | PacGAN |", "",
                                    PUBLISHED_NOTE]

    at = next(i for i, ln in enumerate(lines) if ln.startswith("| pacgan2 | +2.00 "))
    assert lines[at].startswith("| pacgan2 | +2.00 [-6.61, +8.00] | 33% | welch | ")
    assert lines[at + 1:at + 3] == ["", EFFECTS_NOTE]
    notes = [SUMMARY_NOTE, PUBLISHED_NOTE, EFFECTS_NOTE]
    assert [ln for ln in lines if ln in notes] == notes  # once each
    assert lines.index(EFFECTS_NOTE) < lines.index("### stability (higher is better)")  # stability: nothing moved
    assert "- No clear effect on modes_captured: pacgan2 (+2.00 [-6.61, +8.00])." in lines
    sentence = "- pacgan2 (pack=2): modes_captured +2.00 [-6.61, +8.00] against gan over the finished seeds (3 vs 3); "
    assert any(ln.startswith(sentence) for ln in lines)


def test_the_csv_files_keep_every_interval_as_computed(synth):
    out = ring8_report(synth)
    summary = pd.read_csv(out / "summary.csv").set_index("configuration")
    assert [summary.loc["gan", "modes_captured_ci_low"], summary.loc["gan", "modes_captured_ci_high"]] == \
        pytest.approx([6 - 2 * T2, 6 + 2 * T2])
    assert [summary.loc["gan", "high_quality_frac_ci_low"], summary.loc["gan", "high_quality_frac_ci_high"]] == \
        pytest.approx([0.3 - 0.2 * T2, 0.3 + 0.2 * T2])
    effects = pd.read_csv(out / "effects.csv")
    row = effects[effects["metric"] == "modes_captured"].iloc[0]
    assert [row["ci_low"], row["ci_high"]] == pytest.approx([2 - 2 * T2, 2 + 2 * T2])
    published = pd.read_csv(out / "published.csv")
    assert published["ours_ci_low"].tolist() == pytest.approx([6 - 2 * T2, 0.3 - 0.2 * T2])
    assert published["ours_ci_high"].tolist() == pytest.approx([6 + 2 * T2, 0.3 + 0.2 * T2])
    for name in ("summary", "effects", "published"):  # the clipping flags are report.md's, not data
        assert not [c for c in pd.read_parquet(out / f"{name}.parquet").columns if "clipped" in c]


def test_an_unbounded_metric_is_printed_as_computed_without_a_note(synth):
    values = {"baseline": [-50.0, 250.0, 100.0], "k2": [200.0, 200.0, 200.0]}  # 100 +- T2 * 150 / sqrt(3)
    trials = []
    for variant, k in (("baseline", 1), ("k2", 2)):
        for seed in range(3):
            p = synth.base_params(seed=seed, variant=variant, k=k)
            trials.append({"params": p, "rows": synth.trial_rows(p, {"parzen_ll": values[variant][seed]})})
    study = {"study": "parzen", "primary_metric": "parzen_ll", "mode": "max", "baseline_variant": "baseline",
             "variants": {"baseline": {}, "k2": {"k": 2}}}
    out = write_report(str(synth.write("parzen", trials, study)), sample_figures=False)
    md = (out / "report.md").read_text()
    assert "| baseline | 3/3 | 100% [44%, 100%] | 100 [-273, 473] | " in md
    assert "| k2 | +100 [-273, +473] | " in md
    assert "clipped" not in md
    summary = pd.read_csv(out / "summary.csv")
    half = T2 * 150 / math.sqrt(3)
    assert summary.loc[0, ["parzen_ll_ci_low", "parzen_ll_ci_high"]].tolist() == pytest.approx([100 - half,
                                                                                                 100 + half])
