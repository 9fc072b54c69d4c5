"""What a study's driver prints at its end: the trial summary, its advice, and the published table."""
from __future__ import annotations

import json
from types import SimpleNamespace

from analysis.report import write_report
from analysis.synthetic import trial_rows, write_experiment
from studies.console import error_line, print_published, print_summary
from studies.experiment_dir import ExperimentDir


def _result(status=None, error=None, path="/r/s/t_ab_00000"):
    return SimpleNamespace(error=error, metrics={} if status is None else {"status": status}, path=path)


def _state(tmp_path, statuses: dict[str, str]) -> ExperimentDir:
    """An experiment directory whose saved state lists these trials (id -> Ray status), as Ray writes it."""
    exp = tmp_path / "s"
    exp.mkdir()
    trials = [[json.dumps({"trial_id": tid, "status": status}), "{}"] for tid, status in statuses.items()]
    (exp / "experiment_state-2026-01-01_00-00-00.json").write_text(json.dumps({"trial_data": trials}))
    return ExperimentDir(str(tmp_path), str(exp))


def test_the_summary_counts_outcomes_and_names_errors_and_the_resume_command(capsys):
    grid = [_result("ok"), _result("ok"), _result("diverged"), _result(error=RuntimeError("Trace\n  x\nOSError: gone"))]
    run = SimpleNamespace(result_grid=grid, location=ExperimentDir("/r", "/r/s"), report_paths=["/r/s/report"],
                          n_errors=1, unfinished=0, resume="python studies/k_sweep.py --resume", stalled="")
    print_summary(run)
    out = capsys.readouterr().out.splitlines()
    assert out[1:4] == ["Trials: 4 (1 diverged, 1 error, 2 ok)", "Results: /r/s", "Report:  /r/s/report"]
    assert out[4].startswith("1 trial(s) failed after all restarts, with: OSError: gone (each trial's error.txt")
    assert out[4].endswith("again from their last checkpoint with: python studies/k_sweep.py --resume")


def test_trials_a_scheduler_stopped_are_counted_as_stopped_not_running(capsys):
    """lr_search's ASHA stops trials early: their last report says "running", and the study has ended."""
    grid = [_result("ok"), _result("running"), _result("running"), _result("running")]
    run = SimpleNamespace(result_grid=grid, location=ExperimentDir("/r", "/r/s"), report_paths=[], n_errors=0,
                          unfinished=0, resume="python studies/lr_search.py --resume", stalled="")
    print_summary(run)
    assert capsys.readouterr().out.splitlines()[1] == "Trials: 4 (1 ok, 3 stopped early by the scheduler)"


def test_an_interrupted_study_counts_its_unfinished_trials_and_ends_with_the_command(tmp_path, capsys):
    """Issue 21, finding 9: after an interruption Ray's grid calls every trial finished ("8 (8 done)"); the summary
    counts from the state Ray saved for --resume."""
    loc = _state(tmp_path, {"ab_00000": "TERMINATED", "ab_00001": "PENDING", "ab_00002": "RUNNING"})
    grid = [_result("ok", path=f"{loc.experiment_path}/k1_seed{i}_ab_0000{i}") for i in range(3)]
    run = SimpleNamespace(result_grid=grid, location=loc, report_paths=[], n_errors=0, unfinished=2,
                          resume="python x.py --resume", stalled="")
    print_summary(run)
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "Trials: 3 (1 ok, 2 unfinished)"
    assert out[-1] == "Interrupted: 2 of 3 trial(s) unfinished; continue with: python x.py --resume"


def test_a_stalled_study_says_what_it_waited_for_and_how_to_continue(tmp_path, capsys):
    loc = _state(tmp_path, {"ab_00000": "PENDING"})
    run = SimpleNamespace(result_grid=[_result(path=f"{loc.experiment_path}/k1_seed0_ab_00000")], location=loc,
                          report_paths=[], n_errors=0, unfinished=1, resume="python x.py --resume",
                          stalled="1 trial(s) waited 1201 s (--start-timeout 1200) for a node with 1 CPU + 0.25 GPU "
                                  "and none came up")
    print_summary(run)
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "Trials: 1 (1 unfinished)"
    assert out[-1] == ("Stopped: 1 trial(s) waited 1201 s (--start-timeout 1200) for a node with 1 CPU + 0.25 GPU "
                       "and none came up; 1 of 1 trial(s) unfinished; once the cluster can start such a node, "
                       "continue with: python x.py --resume")


def test_error_line_is_the_last_line_of_the_error():
    assert error_line(RuntimeError("a\n\n  b  \nValueError: bad k\n")) == "ValueError: bad k"
    assert error_line(RuntimeError("")) == "RuntimeError"


def test_the_published_table_is_printed_from_the_results_directory(tmp_path, capsys):
    from gan_core.config import GANConfig

    rows = []
    for seed in range(3):
        p = {**GANConfig.from_flat({"dataset": "mnist5k", "steps": 200, "eval_every": 50}).to_flat(), "seed": seed,
             "variant": "gan"}
        rows.append({"params": p, "rows": trial_rows(p, {"fd": 10.0 + seed})})
    published = [{"variant": "gan", "metric": "fd", "value": 11.0, "se": None, "source": "a paper"}]
    exp = write_experiment(tmp_path, "pub", rows, {"study": "pub", "primary_metric": "fd", "mode": "min",
                                                   "baseline_variant": "gan", "variants": {"gan": {}},
                                                   "factors": ["variant"], "published": published})
    write_report(str(exp), sample_figures=False)  # the study's end writes the report, then prints its table
    capsys.readouterr()
    print_published(ExperimentDir(str(tmp_path), str(exp)))
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "Against the published figures (ours: mean [95% CI] over seeds, at this budget):"
    assert out[4] == "| gan | fd | 11 | 11 [8.52, 13.5] | 3 | yes | a paper |"


def test_a_failing_comparison_is_one_line_and_loses_nothing(tmp_path, capsys):
    print_published(ExperimentDir(str(tmp_path), str(tmp_path / "nothing")))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("The comparison with the published figures could not be made (ResultsError: ")
    assert captured.err.count("\n") == 1
