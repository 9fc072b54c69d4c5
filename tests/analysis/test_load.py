"""Reading a results directory: the trials and history frames, the statuses of the study as a whole (missing,
duplicate, unfinished), and bad input as one clear line (one trial's own status: test_trial_rows.py)."""
import json
import math
import shutil

import pytest

from analysis.fsio import ResultsError
from analysis.load import read_study
from analysis.trial_frame import stability_labels


def test_ablation_trials_and_history(ablation_dir, synth):
    data = read_study(str(ablation_dir))
    t = data.trials
    assert len(t) == 18
    assert data.meta.name == "ablation" and data.meta.primary_metric == "fd" and data.meta.mode == "min"
    assert data.meta.baseline_variant == "baseline"
    assert t["status"].value_counts().to_dict() == {"ok": 16, "diverged": 2}
    assert set(t["ray_status"]) == {"TERMINATED"}
    assert data.metrics == ["fd", "cis", "precision", "recall", "density", "coverage", "classes_covered",
                            "class_kl"]
    # one history row per report: 16 trials x 4 evaluations + 2 diverged trials x 3
    assert len(data.history) == 16 * 4 + 2 * 3
    assert "config" not in data.history.columns
    base0 = t[(t["variant"] == "baseline") & (t["seed"] == 0)].iloc[0]
    assert base0["final_fd"] == pytest.approx(40 + synth.noise[0])
    assert base0["best_fd"] == pytest.approx(40 + synth.noise[0])  # fd falls to its final value
    assert base0["best_fd_g_steps"] == 200
    assert base0["g_steps"] == 200 and base0["d_steps"] == 200 and base0["n_evals"] == 4
    assert base0["wall_time_s"] == pytest.approx(10.0)
    assert (base0["hostname"], base0["node_ip"], base0["device_used"]) == ("vm", "192.0.2.2", "cpu")
    assert base0["batchnorm_d"] is True or base0["batchnorm_d"] == True  # noqa: E712 (numpy bool)
    bad = t[(t["variant"] == "batchnorm_d_off") & (t["seed"] == 0)].iloc[0]
    assert bad["status"] == "diverged" and math.isnan(bad["final_fd"])
    assert (bad["stability"], bad["stability_reason"]) == (
        "diverged", "trainer status 'diverged' at g_steps=150; final fd is nan")
    assert t["stability"].value_counts().to_dict() == {"stable": 16, "diverged": 2}
    # fd falls linearly 1.75 v, 1.5 v, 1.25 v, v at g_steps 50..200: 90% of the way (1.075 v) is first reached at
    # 200; the last quarter (g_steps >= 150) holds 1.25 v and v, population std 0.125 v
    v = 40 + synth.noise[0]
    assert (base0["stability"], base0["stability_reason"]) == ("stable", "no failure found")
    assert (base0["steps_to_90pct"], base0["oscillation"], base0["final_best_gap"]) == pytest.approx(
        (200.0, 0.125 * v, 0.0))
    assert bad["best_fd"] == pytest.approx((40 + 12 + synth.noise[0]) * (2 - 2 / 4))  # best finite: 2nd eval
    assert not bad["batchnorm_d"]


def test_a_trial_folder_removed_by_hand_is_named_as_missing(synth):
    p = synth.base_params
    rows = synth.trial_rows(p(seed=0), {"fd": 10.0})
    exp = synth.write("removed", [{"params": p(seed=s), "rows": rows} for s in range(3)],
                      {"study": "removed", "primary_metric": "fd", "mode": "min"})
    gone = sorted(d for d in exp.iterdir() if d.is_dir())[1]
    shutil.rmtree(gone)
    data = read_study(str(exp))
    t = data.trials
    assert t["status"].tolist() == ["ok", "missing", "ok"]
    assert (t["trial_dir"][1], t["seed"][1], t["n_evals"][1]) == (gone.name, 1, 0)
    assert data.notes == [f"trial {gone.name}: listed in Ray's experiment state (TERMINATED) but its folder is "
                          f"missing: not in the statistics"]


def test_a_configuration_and_seed_run_twice_counts_once(synth):
    """Two drivers that wrote one study (no lock on s3://): the repeat is "duplicate", named, and not counted."""
    p = synth.base_params
    rows = synth.trial_rows(p(seed=0), {"fd": 10.0})
    exp = synth.write("twice", [{"params": p(seed=0), "rows": rows}, {"params": p(seed=1), "rows": rows},
                                {"params": p(seed=0), "rows": rows}],
                      {"study": "twice", "primary_metric": "fd", "mode": "min"})
    data = read_study(str(exp))
    t = data.trials
    assert t["status"].tolist() == ["ok", "duplicate", "ok"]  # in folder order: seed0 (00000), seed0 (00002), seed1
    assert t["seed"].tolist() == [0, 0, 1]
    assert data.notes == [f"trial {t['trial_dir'][1]} repeats the configuration and seed of {t['trial_dir'][0]}: "
                          f"two drivers wrote this study at once (a storage without locks, such as s3://); only "
                          f"{t['trial_dir'][0]} is in the statistics"]


def test_trainer_ok_yet_collapsed_or_d_dominated(unstable_dir):
    t = read_study(str(unstable_dir)).trials
    assert t["status"].tolist() == ["ok"] * 9
    assert list(zip(t["variant"], t["seed"], t["stability"])) == [
        ("baseline", 0, "stable"), ("baseline", 1, "stable"), ("baseline", 2, "stable"),
        ("collapsed", 0, "collapsed"), ("collapsed", 1, "collapsed"), ("collapsed", 2, "collapsed"),
        ("d_wins", 0, "d_dominates"), ("d_wins", 1, "d_dominates"), ("d_wins", 2, "d_dominates")]
    assert t.loc[3, "stability_reason"] == "top_share = 0.95 >= 0.9"
    assert t.loc[6, "stability_reason"] == \
        "last-quarter mean D(G(z)) = 0.01 < 0.1 with mean D(x) = 0.99 > 0.9"
    assert t.loc[3, "final_fd"] == pytest.approx(70 - 1.5)  # collapsed, with a finite fd
    assert stability_labels(t).tolist() == t["stability"].tolist()


def test_stopped_and_unfinished_trials_get_a_label_from_what_they_reported(synth):
    p = synth.base_params
    rows = synth.trial_rows(p(seed=0), {"fd": 10.0})
    exp = synth.write("partial", [{"params": p(seed=0), "rows": rows[:2], "ray_status": "TERMINATED"},
                                  {"params": p(seed=1), "rows": [], "ray_status": "PENDING"}],
                      {"study": "partial", "primary_metric": "fd", "mode": "min", "search": {"scheduler": "ASHA"}})
    t = read_study(str(exp)).trials
    assert t["status"].tolist() == ["stopped", "pending"]
    assert t["stability"].tolist() == ["stable", ""]
    assert stability_labels(t).tolist() == ["stable", ""]


def test_missing_study_json_is_inferred_and_noted(synth):
    p = synth.base_params(seed=0)
    exp = synth.write("nostudy", [{"params": p, "rows": synth.trial_rows(p, {"reverse_kl": 0.5})}])
    data = read_study(str(exp))
    assert (data.meta.name, data.meta.primary_metric, data.meta.mode) == ("nostudy", "reverse_kl", "min")
    assert data.notes[0].startswith("study.json is missing")


def test_nan_and_infinity_literals_are_read(synth):
    p = synth.base_params(seed=0)
    exp = synth.write("inf", [{"params": p, "rows": synth.trial_rows(p, {"fd": math.inf})}])
    data = read_study(str(exp))
    assert data.trials["final_fd"].iloc[0] == math.inf
    assert math.isnan(data.trials["best_fd"].iloc[0])  # best only over finite values


def test_not_a_results_directory(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ResultsError, match=r"is not a Ray results directory: no study.json"):
        read_study(str(tmp_path))


def test_storage_path_instead_of_experiment_names_the_subfolders(ablation_dir):
    with pytest.raises(ResultsError, match=r"did you mean one of its subfolders: ablation\?"):
        read_study(str(ablation_dir.parent))


def test_missing_path_and_file_path(tmp_path):
    with pytest.raises(ResultsError, match="does not exist"):
        read_study(str(tmp_path / "nope"))
    (tmp_path / "f.json").write_text("{}")
    with pytest.raises(ResultsError, match="is a file, not a Ray results directory"):
        read_study(str(tmp_path / "f.json"))


def test_empty_study(synth):
    exp = synth.write("empty", [], {"study": "empty", "primary_metric": "fd", "mode": "min"})
    with pytest.raises(ResultsError, match=r"study 'empty' at .* is empty: it has no trial folders yet"):
        read_study(str(exp))


def test_bad_study_json(synth):
    exp = synth.write("bad", [], None)
    (exp / "study.json").write_text("{not json")
    with pytest.raises(ResultsError, match="study.json' is not valid JSON"):
        read_study(str(exp))
    (exp / "study.json").write_text(json.dumps({"study": "bad", "primary_metric": "fd", "mode": "lowest"}))
    with pytest.raises(ResultsError, match=r"study.json key 'mode' = 'lowest' is not allowed; allowed: 'min' \| 'max'"):
        read_study(str(exp))


def test_trials_ray_lists_that_never_reported_are_pending_or_running(synth):
    """An interrupted 8-trial study (the costliest first): Ray's state says 2 running, 6 pending. Each is a row,
    with its config from Ray's state, whether its folder is absent or empty; one note says what the state said."""
    p = synth.base_params
    configs = [(5, "non_saturating"), (5, "minimax"), (2, "non_saturating"), (2, "minimax"),
               (1, "non_saturating"), (1, "minimax"), (3, "non_saturating"), (3, "minimax")]
    trials = [{"params": p(k=k, g_loss=loss, seed=0), "rows": [], "ray_status": "RUNNING" if i < 2 else "PENDING"}
              for i, (k, loss) in enumerate(configs)]
    exp = synth.write("interrupted", trials, KSWEEP_STUDY)
    folders = sorted(d for d in exp.iterdir() if d.is_dir())
    for d in folders[2:5]:  # Ray made the folders of these, nothing more
        for f in d.iterdir():
            f.unlink()
    for d in folders[5:]:  # not yet made
        shutil.rmtree(d)
    data = read_study(str(exp))
    t = data.trials
    assert t["status"].tolist() == ["running", "running"] + ["pending"] * 6
    assert list(zip(t["k"], t["g_loss"])) == configs
    assert t["trial_dir"].tolist() == [d.name for d in folders]
    state = next(exp.glob("experiment_state-*.json")).name
    assert data.notes == [f"8 of 8 trials had not finished when Ray last saved the study's state ({state}): 2 "
                          f"running, 6 pending. A results directory cannot tell whether a driver still runs them; if "
                          f"none does, the study's command with --resume finishes them. Until then they are not in "
                          f"the statistics."]


KSWEEP_STUDY = {"study": "k_sweep", "primary_metric": "fd", "mode": "min", "baseline_variant": "k1_non_saturating",
                "factors": ["k", "g_loss"], "baseline": {"k": 1, "g_loss": "non_saturating"}}
