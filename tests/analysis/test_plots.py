"""Figures from the tables: valid PNGs (matplotlib reads them back) carrying the titles that were set."""
import matplotlib.pyplot as plt
from PIL import Image

from analysis import plots
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
    assert seen == {"cells": ["3/3", "0/3", "0/3"], "rate": [1.0, 0.0, 0.0]}
