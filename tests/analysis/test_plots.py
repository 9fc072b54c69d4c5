"""Figures from the tables: valid PNGs (matplotlib reads them back) carrying the titles that were set."""
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

from analysis import plots, stats
from analysis.results import load_results


def title_of(path):
    with Image.open(path) as im:
        return im.info.get("Title")


def assert_png(path, title):
    img = plt.imread(path)
    assert img.ndim == 3 and img.shape[0] > 50 and img.shape[1] > 50
    assert title_of(path) == title


def test_curves_effects_and_stability_for_a_grid(ksweep_dir, tmp_path):
    r = load_results(str(ksweep_dir))
    p = plots.plot_curves(r.history, "fd", "min", r.configurations, tmp_path / "c.png", "fd curves")
    assert_png(p, "fd curves")
    p = plots.plot_effects(r.effects, "fd", tmp_path / "e.png", "fd effects")
    assert_png(p, "fd effects")
    p = plots.plot_stability(r.trials, r.design, tmp_path / "s.png", "k by g_loss")
    assert_png(p, "k by g_loss")


def test_stability_heatmap_for_variants_and_for_a_single_configuration(ablation_dir, synth, tmp_path):
    r = load_results(str(ablation_dir))
    assert_png(plots.plot_stability(r.trials, r.design, tmp_path / "v.png", "per variant"), "per variant")
    trials = []
    for seed in range(2):
        p = synth.base_params(seed=seed)
        trials.append({"params": p, "rows": synth.trial_rows(p, {"fd": 1.0})})
    one = load_results(str(synth.write("one", trials, {"study": "one", "primary_metric": "fd", "mode": "min"})))
    assert_png(plots.plot_stability(one.trials, one.design, tmp_path / "o.png", "one"), "one")


def test_nothing_to_draw_gives_none(ablation_dir, tmp_path):
    r = load_results(str(ablation_dir))
    assert plots.plot_curves(r.history, "jsd", "min", r.configurations, tmp_path / "x.png", "x") is None
    assert plots.plot_effects(r.effects, "jsd", tmp_path / "y.png", "y") is None
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "y.png").exists()


def test_stability_heatmap_colours_the_share_with_stability_ok(unstable_dir, tmp_path, monkeypatch):
    r = load_results(str(unstable_dir))
    seen = {}
    save = plots.save_figure

    def spy(fig, path, title):
        ax = fig.axes[0]
        seen["cells"] = [t.get_text() for t in ax.texts]
        seen["rate"] = ax.images[0].get_array().filled(-1).ravel().tolist()
        return save(fig, path, title)

    monkeypatch.setattr(plots, "save_figure", spy)
    assert_png(plots.plot_stability(r.trials, r.design, tmp_path / "u.png", "unstable"), "unstable")
    # trainer status ok in all 9 trials; the collapsed and D-dominated seeds are not stable
    assert seen == {"cells": ["3/3 (100%)", "0/3 (0%)", "0/3 (0%)"], "rate": [100.0, 0.0, 0.0]}  # %, as report.md


def test_a_band_of_a_bounded_count_is_clipped_to_its_range_and_says_so(drawn, tmp_path):
    history = pd.DataFrame({"configuration": ["a"] * 6, "g_steps": [10, 10, 10, 20, 20, 20],
                            "classes_covered": [0.0, 0.0, 3.0, 8.0, 10.0, 10.0]})
    plots.plot_curves(history, "classes_covered", "max", ["a"], tmp_path / "c.png", "t")
    ax = drawn[0].axes[0]
    (lo1, hi1), (lo2, hi2) = stats.mean_ci(np.array([0.0, 0.0, 3.0])), stats.mean_ci(np.array([8.0, 10.0, 10.0]))
    assert lo1 < 0 and hi2 > 10  # the t interval leaves the range [0, 10] on both sides
    ys = set(ax.collections[0].get_paths()[0].vertices[:, 1].tolist())
    assert {0.0, hi1, lo2, 10.0} <= ys and min(ys) == 0.0 and max(ys) == 10.0
    assert "bands clipped to the range of classes_covered, [0, 10]" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10", "20"]  # the evaluations' steps, integers
    assert all(float(t).is_integer() for t in ax.get_yticks())  # a count's ticks


def test_many_evaluations_get_integer_step_ticks(drawn, tmp_path):
    history = pd.DataFrame({"configuration": "a", "g_steps": np.arange(1, 46) * 5 // 2, "fd": 1.0})
    plots.plot_curves(history, "fd", "min", ["a"], tmp_path / "c.png", "t")
    ticks = drawn[0].axes[0].get_xticks()
    assert len(ticks) > 2 and all(float(t).is_integer() for t in ticks)
    assert "clipped" not in drawn[0].axes[0].get_xlabel()  # a single seed has no band: nothing clipped


def test_two_factors_are_colour_and_line_style_with_the_legend_below_the_title_free(ksweep_dir, drawn, tmp_path):
    r = load_results(str(ksweep_dir))
    plots.plot_curves(r.history, "fd", "min", r.configurations, tmp_path / "c.png", "k_sweep: fd " * 12,
                      trials=r.trials, design=r.design)
    fig = drawn[0]
    ax, legend = fig.axes[0], fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["k=1", "k=2", "k=5", "g_loss=non_saturating",
                                                          "g_loss=minimax"]
    lines = dict(zip(r.configurations, ax.lines))
    for k in ("1", "2", "5"):
        assert lines[f"k={k}, g_loss=non_saturating"].get_color() == lines[f"k={k}, g_loss=minimax"].get_color()
    for loss in ("non_saturating", "minimax"):
        assert len({lines[f"k={k}, g_loss={loss}"].get_linestyle() for k in ("1", "2", "5")}) == 1
    assert len({ln.get_color() for ln in ax.lines}) == 3 and len({ln.get_linestyle() for ln in ax.lines}) == 2
    renderer = fig.test_renderer
    box, axes_box, title_box = (legend.get_window_extent(renderer), ax.get_tightbbox(renderer),
                                ax.title.get_window_extent(renderer))
    assert box.y1 <= axes_box.y0 and not box.overlaps(title_box)  # below the axes and their labels
    assert "\n" in ax.get_title() and title_box.x0 >= 0 and title_box.x1 <= fig.bbox.x1  # wrapped, not cut off


def test_a_panel_without_any_finite_value_says_why(drawn, tmp_path):
    history = pd.DataFrame({"configuration": "a", "g_steps": [10, 20], "fd": math.nan})
    trials = pd.DataFrame({"configuration": ["a"] * 3, "stability": ["collapsed", "collapsed", "diverged"]})
    assert plots.plot_curves(history, "fd", "min", ["a"], tmp_path / "c.png", "t", trials=trials)
    text = " ".join(t.get_text().replace("\n", " ") for t in drawn[0].axes[0].texts)
    assert text == "No finite fd in any evaluation: a (2 collapsed, 1 diverged)"


def test_stability_effects_are_in_points_with_each_verdict_named(ablation_dir, drawn, tmp_path):
    r = load_results(str(ablation_dir))
    plots.plot_effects(r.effects, "stability", tmp_path / "e.png", "t")
    ax = drawn[0].axes[0]
    rows = r.effects[r.effects["metric"] == "stability"]
    assert [c.lines[0].get_xdata()[0] for c in ax.containers] == (rows["effect"] * 100).tolist()
    assert ax.get_xlabel().startswith("stability (percentage points): level minus baseline")
    legend = drawn[0].legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [
        "better (Holm p < 0.05)", "worse (Holm p < 0.05)", "no clear effect (unclear, not resolvable or no test)"]
    assert legend.get_title().get_text() == "verdict over every seed"


def test_an_effect_interval_is_clipped_to_what_a_difference_can_be(drawn, tmp_path):
    effects = pd.DataFrame({"metric": "modes_captured", "mode": "max", "comparison": ["k=2"], "effect": [1.5],
                            "ci_low": [-30.0], "ci_high": [33.0], "direction": ["unclear"], "n_level": [3],
                            "n_failed_level": [0]})
    trials = pd.DataFrame({"dataset": ["ring8"]})
    plots.plot_effects(effects, "modes_captured", tmp_path / "e.png", "t", trials)
    ax = drawn[0].axes[0]
    segment = ax.containers[0].lines[2][0].get_segments()[0]
    assert segment[:, 0].tolist() == [-8.0, 8.0]  # modes_captured in [0, 8]: a difference in [-8, 8]
    assert "CIs clipped to [-8, 8]" in ax.get_xlabel()


def test_a_comparison_whose_seeds_all_failed_says_so_in_its_row(synth, drawn, tmp_path):
    trials = synth.ablation_trials({"baseline": 0.0, "batchnorm_d_off": 12.0}, diverged={"batchnorm_d_off": 6},
                                   changes={"batchnorm_d_off": {"batchnorm_d": False}})
    study = {**synth.ablation_study, "variants": {"baseline": {}, "batchnorm_d_off": {"batchnorm_d": False}}}
    r = load_results(str(synth.write("failed", trials, study)))
    plots.plot_effects(r.effects, "fd", tmp_path / "e.png", "t")
    ax = drawn[0].axes[0]
    assert r.effects.loc[r.effects["metric"] == "fd", "direction"].tolist() == ["worse"]  # 6 of 6 failed against 0
    why = "all 6 seeds failed (diverged or collapsed): nothing finished to measure; worse over every seed, by how " \
          "they failed"
    assert [t.get_text() for t in ax.texts] == [why]
    assert [t.get_color() for t in ax.texts] == ["tab:red"]  # the verdict's colour, as the answer states it
    assert [t.get_text() for t in ax.get_yticklabels()] == ["batchnorm_d_off (6 of 6 failed)"]


def test_a_legend_of_long_labels_stays_inside_the_figure(drawn, tmp_path):
    labels = [f"lr_d=2.05e-04, lr_g=4.73e-03, beta1=0.{i}" for i in range(4)]
    history = pd.DataFrame({"configuration": labels, "g_steps": 10, "fd": 1.0})
    plots.plot_curves(history, "fd", "min", labels, tmp_path / "c.png", "t")
    fig = drawn[0]
    box = fig.legends[0].get_window_extent(fig.test_renderer)
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1


def test_a_stability_cell_without_a_finished_trial_says_what_there_is(ksweep_dir, drawn, tmp_path):
    r = load_results(str(ksweep_dir))
    trials = r.trials.copy()
    trials.loc[trials["k_level"] == "5", "status"] = "stopped"
    plots.plot_stability(trials, r.design, tmp_path / "s.png", "t")
    cells = [t.get_text() for t in drawn[0].axes[0].texts]
    assert cells == ["4/4 (100%)"] * 4 + ["4 not finished"] * 2
