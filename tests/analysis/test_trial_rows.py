"""One trial folder's rows and status (analysis.trial_rows), read through read_study: error, running, pending,
stopped and incomplete; damaged params.json and result.json named and left out; an empty error.txt; reports a
restore repeated."""
import json
import math

import pytest

from analysis.load import read_study
from analysis.trial_frame import stability_labels


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
