"""Reading a results directory: the trials and history frames, statuses, and bad input as one clear line."""
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


def test_error_running_stopped_and_pending_trials(synth):
    p = synth.base_params
    rows = synth.trial_rows(p(seed=0), {"fd": 10.0})
    exp = synth.write("mixed", [
        {"params": p(seed=0), "rows": rows},
        {"params": p(seed=1), "rows": rows[:1], "error": "RuntimeError: CUDA out of memory"},
        {"params": p(seed=2), "rows": rows[:2], "ray_status": "RUNNING"},
        {"params": p(seed=3), "rows": rows[:2], "ray_status": "TERMINATED"},
        {"params": p(seed=4), "rows": [], "ray_status": "PENDING"},
        {"params": p(seed=5), "rows": rows, "bad_lines": ['{"g_steps": 250, "status": "ok", "fd": 9.'],
         "ray_status": "TERMINATED"},
    ], {"study": "mixed", "primary_metric": "fd", "mode": "min"})
    data = read_study(str(exp))
    # seed 3 ended (TERMINATED) before its budget in a study without a scheduler: its record is cut short
    assert data.trials["status"].tolist() == ["ok", "error", "running", "incomplete", "pending", "ok"]
    assert data.trials["error"].iloc[1] == "RuntimeError: CUDA out of memory"
    assert data.trials["final_fd"].iloc[5] == pytest.approx(10.0)
    cut = data.trials["trial_dir"].iloc[5]
    assert f"trial {cut}: the last line of its result.json is cut short (a write interrupted: a crash or a full " \
           f"disk): the 4 complete report(s) before it are kept" in data.notes


def test_only_a_scheduler_stops_a_trial(synth):
    """The same early end is "stopped" where study.json names a scheduler (ASHA cut it), else "incomplete"."""
    p = synth.base_params
    rows = synth.trial_rows(p(seed=0), {"fd": 10.0})
    trials = [{"params": p(seed=0), "rows": rows}, {"params": p(seed=1), "rows": rows[:2]}]
    meta = {"study": "s", "primary_metric": "fd", "mode": "min"}
    searched = read_study(str(synth.write("searched", trials, {**meta, "search": {"searcher": "Optuna TPE",
                                                                                    "scheduler": "ASHA"}})))
    assert searched.trials["status"].tolist() == ["ok", "stopped"]
    design = read_study(str(synth.write("design", trials, meta)))
    assert design.trials["status"].tolist() == ["ok", "incomplete"]
    assert design.notes == [f"trial {design.trials['trial_dir'][1]}: its result.json ends at report 2, before its "
                            f"run's last report: incomplete, not in the statistics"]


def test_a_result_file_that_lost_its_last_lines_is_incomplete_not_stopped(synth):
    """Ray's experiment state received 4 reports; result.json keeps 2 (its end lost): "incomplete", named, and
    its early value is in no statistic."""
    p = synth.base_params
    rows = synth.trial_rows(p(seed=0), {"fd": 10.0})
    exp = synth.write("cut", [{"params": p(seed=0), "rows": rows},
                              {"params": p(seed=1), "rows": rows[:2], "ray_iterations": 4}],
                      {"study": "cut", "primary_metric": "fd", "mode": "min", "search": {"scheduler": "ASHA"}})
    data = read_study(str(exp))
    assert data.trials["status"].tolist() == ["ok", "incomplete"]
    assert data.notes == [f"trial {data.trials['trial_dir'][1]}: its result.json ends at report 2, before the 4 Ray "
                          f"received: incomplete, not in the statistics"]


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


def test_ray_default_folder_names_give_the_trial_id_of_a_trial_without_results(synth):
    p = synth.base_params
    exp = synth.write("names", [{"params": p(seed=0), "rows": synth.trial_rows(p(seed=0), {"fd": 1.0})},
                                {"params": p(seed=1), "rows": []}],
                      {"study": "names", "primary_metric": "fd", "mode": "min"}, ray_names=True)
    data = read_study(str(exp))
    assert data.trials["trial_id"].tolist() == ["a1b2c_00000", "a1b2c_00001"]
    assert data.trials["trial_dir"].tolist()[0].startswith("train_gan_a1b2c_00000_0_")
    assert data.trials["status"].tolist() == ["ok", "error"]  # Ray says TERMINATED, yet nothing was reported


def test_reports_without_a_status_key_end_ok(synth):
    rows = [{"max_abs_d_error": 0.02, "jsd": 0.0, "node_id": "n1", "device": "cpu"}]
    exp = synth.write("theory", [{"params": {"mu_g": 0.0, "sigma_g": 1.0, "steps": 30, "seed": 0,
                                             "variant": "mu0_sd1"}, "rows": rows}],
                      {"study": "theory_check", "primary_metric": "max_abs_d_error", "mode": "min"})
    data = read_study(str(exp))
    assert data.trials["status"].tolist() == ["ok"]
    assert data.metrics == ["max_abs_d_error", "jsd"]
    assert data.trials["final_max_abs_d_error"].tolist() == [0.02]
    # not a GAN's reports (no g_steps): no stability status of its own; a finished one counts as stable
    assert (data.trials["stability"].tolist(), data.trials["stability_reason"].tolist()) == ([""], [""])
    assert math.isnan(data.trials["steps_to_90pct"].iloc[0])
    assert stability_labels(data.trials).tolist() == ["stable"]


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


def test_steps_reported_again_after_a_restore_count_once(synth):
    p = synth.base_params(seed=0)
    rows = synth.trial_rows(p, {"fd": 10.0})  # g_steps 50, 100, 150, 200
    again = [dict(rows[2], fd=99.0), rows[3]]  # restored from the checkpoint at step 100: 150 and 200 again
    exp = synth.write("restored", [{"params": p, "rows": rows + again}],
                      {"study": "r", "primary_metric": "fd", "mode": "min"})
    data = read_study(str(exp))
    assert data.history["g_steps"].tolist() == [50, 100, 150, 200]
    assert data.history["fd"].tolist() == pytest.approx([17.5, 15.0, 99.0, 10.0])
    assert data.trials["n_evals"].tolist() == [4]


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


# ------------------------------------------------------------------------------------------- damaged trial files
def _three_seeds(synth, name, **spec):
    """Three finished seeds of one configuration (fd 10, 11, 12); ``spec`` is added to seed 1's trial."""
    p = synth.base_params
    trials = [{"params": p(seed=s), "rows": synth.trial_rows(p(seed=s), {"fd": 10.0 + s})} for s in range(3)]
    trials[1].update(spec)
    exp = synth.write(name, trials, {"study": name, "primary_metric": "fd", "mode": "min"})
    return exp, sorted(d for d in exp.iterdir() if d.is_dir())[1]


@pytest.mark.parametrize("damage,reason", [
    (lambda p: {**p, "k": None}, "params.json holds null for k"),
    (lambda p: {k: v for k, v in p.items() if k != "lr_d"}, "params.json lacks lr_d"),
    (lambda p: json.dumps(p)[:60], "params.json is not valid JSON at line 1 column 37 (cut short?)"),
    (lambda p: "", "params.json is empty"),
    (lambda p: [p], "params.json holds an array, not a JSON object"),
])
def test_a_trial_whose_params_json_is_damaged_is_named_and_left_out(synth, damage, reason):
    """A hand-edited or cut-short params.json: the trial is "damaged", its config is Ray's record of it, the
    reason is in trials.csv's damage column and in one note, and the other seeds are the statistics."""
    exp, bad = _three_seeds(synth, "params")
    got = damage(json.loads((bad / "params.json").read_text()))
    (bad / "params.json").write_text(got if isinstance(got, str) else json.dumps(got))
    data = read_study(str(exp))
    t = data.trials
    assert t["status"].tolist() == ["ok", "damaged", "ok"]
    assert t["damage"].tolist() == ["", reason, ""]
    assert (t["trial_dir"][1], t["seed"][1], t["k"][1], t["n_evals"][1]) == (bad.name, 1, 1, 0)
    assert math.isnan(t["final_fd"][1])
    assert data.notes == [f"trial {bad.name}: damaged, not in the statistics: {reason}"]


def test_a_result_json_damaged_in_its_middle_is_named_and_left_out(synth):
    """A line that is not JSON, or JSON but not an object, anywhere but at the end: no write cut short makes
    it, so no line of that file is counted."""
    exp, bad = _three_seeds(synth, "results")
    lines = (bad / "result.json").read_text().splitlines()
    (bad / "result.json").write_text("\n".join([lines[0], "garbage", *lines[1:]]) + "\n")
    other = sorted(d for d in exp.iterdir() if d.is_dir())[2]
    lines = (other / "result.json").read_text().splitlines()
    (other / "result.json").write_text("\n".join([*lines[:3], "[1, 2]", lines[3]]) + "\n")
    data = read_study(str(exp))
    t = data.trials
    assert t["status"].tolist() == ["ok", "damaged", "damaged"]
    assert t["damage"].tolist()[1:] == ["result.json line 2 is not valid JSON",
                                        "result.json line 4 holds an array, not a JSON object (a report)"]
    assert t["seed"].tolist() == [0, 1, 2] and t["n_evals"].tolist() == [4, 0, 0]
    assert data.history["trial_id"].unique().tolist() == [t["trial_id"][0]]
    assert data.notes == [f"trial {bad.name}: damaged, not in the statistics: result.json line 2 is not valid JSON",
                          f"trial {other.name}: damaged, not in the statistics: result.json line 4 holds an array, "
                          f"not a JSON object (a report)"]


def test_a_result_json_cut_short_keeps_its_complete_reports(synth):
    """A write cut short (a crash, a full disk) loses a line's end: the complete reports before it are kept and
    the trial is "incomplete" (its last report is gone), never "stopped"; a resumed run that appended its next
    report to the cut line keeps that report."""
    exp, cut = _three_seeds(synth, "cut")
    lines = (cut / "result.json").read_text().splitlines()
    (cut / "result.json").write_text("\n".join(lines[:3]) + "\n" + lines[3][:50])
    resumed = sorted(d for d in exp.iterdir() if d.is_dir())[2]
    lines = (resumed / "result.json").read_text().splitlines()
    (resumed / "result.json").write_text("\n".join([lines[0], lines[1][:70] + lines[1], *lines[2:]]) + "\n")
    data = read_study(str(exp))
    t = data.trials
    assert t["status"].tolist() == ["ok", "incomplete", "ok"]
    assert t["n_evals"].tolist() == [4, 3, 4]
    assert t["final_fd"][2] == pytest.approx(12.0)
    assert data.notes == [
        f"trial {cut.name}: the last line of its result.json is cut short (a write interrupted: a crash or a full "
        f"disk): the 3 complete report(s) before it are kept",
        f"trial {cut.name}: its result.json ends at report 3, before the 4 Ray received: incomplete, not in the "
        f"statistics",
        f"trial {resumed.name}: result.json line 2 was cut short and a resumed run appended its next report to it: "
        f"the cut part dropped, that report kept"]
    # without Ray's state, a record that ends early reads as "stopped": a cut last line says it is incomplete
    p = synth.base_params(seed=0)
    rows = synth.trial_rows(p, {"fd": 10.0})
    alone = synth.write("alone", [{"params": p, "rows": rows[:2], "bad_lines": ['{"g_steps": 150, "fd']}],
                        {"study": "alone", "primary_metric": "fd", "mode": "min"}, ray_files=False)
    assert read_study(str(alone)).trials["status"].tolist() == ["incomplete"]
    # a result.json emptied (a full disk) of a trial whose 4 reports Ray received: incomplete, not "error"
    exp, emptied = _three_seeds(synth, "emptied")
    (emptied / "result.json").write_text("")
    data = read_study(str(exp))
    assert data.trials["status"].tolist() == ["ok", "incomplete", "ok"]
    assert data.notes == [f"trial {emptied.name}: its result.json ends at report 0, before the 4 Ray received: "
                          f"incomplete, not in the statistics"]


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


def test_an_empty_error_txt_beside_a_finished_trial_is_no_failure(synth):
    """Ray leaves an empty error.txt where it could not write one (a full disk); a trial that then ran its whole
    budget and that Ray ended (TERMINATED) is finished, with no error. An error.txt with content still names the
    failure, and an empty one beside a trial that did not finish still marks it failed."""
    p = synth.base_params
    rows = synth.trial_rows(p(seed=0), {"fd": 10.0})
    exp = synth.write("full", [{"params": p(seed=0), "rows": rows},
                               {"params": p(seed=1), "rows": rows, "error": "OSError: [Errno 28] No space left"},
                               {"params": p(seed=2), "rows": rows[:2], "ray_status": "ERROR"}],
                      {"study": "full", "primary_metric": "fd", "mode": "min"})
    folders = sorted(d for d in exp.iterdir() if d.is_dir())
    for d in (folders[0], folders[2]):
        (d / "error.txt").write_text("")
    t = read_study(str(exp)).trials
    assert t["status"].tolist() == ["ok", "ok", "error"]
    assert t["ray_status"].tolist() == ["TERMINATED", "ERROR", "ERROR"]
    assert t["error"].tolist() == ["", "OSError: [Errno 28] No space left", "failed (empty error.txt)"]
