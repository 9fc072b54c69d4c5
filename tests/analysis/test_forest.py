"""The answer's forest plot (primary metric and stability side by side, verdicts named) and a search's objective
against its searched settings."""
import pandas as pd

from analysis import forest, plots
from analysis.results import load_results


def test_forest_shows_the_answers_effects_with_each_verdict_named(ablation_dir, drawn, tmp_path):
    r = load_results(str(ablation_dir))
    p = forest.plot_forest(r.effects, "fd", tmp_path / "f.png", "the answer", r.trials)
    assert p == tmp_path / "f.png" and p.is_file()
    fig = drawn[0]
    assert [ax.get_title() for ax in fig.axes] == ["fd", "stability"]
    order = list(r.effects.loc[r.effects["metric"] == "fd", "comparison"])
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert [lb.split(" (")[0] for lb in labels] == order
    assert fig.axes[0].get_yticks().tolist() == list(range(len(order)))[::-1]  # the first comparison on top
    stab = r.effects[r.effects["metric"] == "stability"].set_index("comparison").reindex(order)
    assert [c.lines[0].get_xdata()[0] for c in fig.axes[1].containers] == (stab["effect"] * 100).tolist()
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [
        "better (Holm p < 0.05)", "worse (Holm p < 0.05)", "no clear effect (unclear, not resolvable or no test)"]
    assert legend.get_title().get_text() == "verdict over every seed, Holm's correction over these comparisons"
    colours = {c.lines[0].get_color() for c in fig.axes[0].containers}
    verdicts = set(r.effects.loc[r.effects["metric"] == "fd", "direction"])
    assert colours == {plots.verdict_colour(v) for v in verdicts}


def test_no_effects_no_forest(tmp_path):
    empty = pd.DataFrame(columns=["metric", "comparison", "effect", "ci_low", "ci_high", "direction", "mode"])
    assert forest.plot_forest(empty, "fd", tmp_path / "f.png", "t") is None
    assert not (tmp_path / "f.png").exists()


def test_search_objective_against_each_searched_rate(drawn, tmp_path):
    trials = pd.DataFrame({"lr_d": [2e-4, 1e-3, 4e-4, 5e-3], "lr_g": [5e-3, 1e-3, 1e-4, 2e-4],
                           "status": ["stopped", "ok", "stopped", "ok"],
                           "final_reverse_kl": [2.0, 0.5, 1.9, float("nan")]})
    forest.plot_search(trials, ["lr_d", "lr_g", "variant"], "reverse_kl", "min", tmp_path / "s.png", "search")
    fig = drawn[0]
    assert [ax.get_xlabel() for ax in fig.axes] == ["lr_d", "lr_g"]  # a non-numeric key gets no panel
    assert [ax.get_xscale() for ax in fig.axes] == ["log", "log"]
    full, stopped, best = (c.get_offsets() for c in fig.axes[0].collections)
    assert full.tolist() == [[1e-3, 0.5]]  # ran the whole budget, finite objective
    assert stopped.tolist() == [[2e-4, 2.0], [4e-4, 1.9]]  # hollow: stopped early
    assert best.tolist() == [[1e-3, 0.5]]
    assert all("e-" in t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text())
    assert [t.get_text() for t in fig.legends[0].get_texts()][-1] == "1 trial(s) without a finite reverse_kl: " \
                                                                      "not drawn"
    assert fig.axes[0].get_ylabel() == "final reverse_kl (lower is better)"
