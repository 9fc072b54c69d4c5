"""--resume runs what the study stored (issue 27, finding 1): the stored command decides the design, execution options
may change and are said, a design option that differs is refused in one line, and the stored design (trials and
evaluator) is checked against what would run. The real-process resume (a killed driver, resumed without its
arguments, compared row for row with an unbroken run) is
tests/studies/test_runner.py::test_resume_after_the_driver_is_killed."""
from __future__ import annotations

import json

import pytest

from studies import arch_ablation, k_sweep, mode_collapse
from studies.cli import StudyInputError
from studies.experiment_dir import locate, study_json
from studies.resume import check_design, design_record, study_args

STARTED = ["--storage-path", "{s}", "--name", "ring", "--k", "1,2", "--seeds", "2", "--steps", "600",
           "--set", "eval_samples=500"]


@pytest.fixture
def stored(tmp_path):
    """A study folder holding the study.json of a k_sweep started with STARTED (nothing else is needed here)."""
    argv = [a.replace("{s}", str(tmp_path)) for a in STARTED]
    args = k_sweep.build_parser().parse_args(argv)
    spec = k_sweep.build_spec(args)
    loc = locate(str(tmp_path), "ring")
    (tmp_path / "ring").mkdir()
    (tmp_path / "ring" / "study.json").write_text(study_json(
        "k_sweep", "reverse_kl", "min", spec.baseline_variant, spec.variants, spec.factors, spec.baseline,
        ["/somewhere/studies/k_sweep.py", *argv], design=design_record(spec, False)))
    return tmp_path, loc, args


def _resume(tmp_path, *extra):
    return study_args("k_sweep", k_sweep.build_parser,
                      ["--storage-path", str(tmp_path), "--name", "ring", "--resume", *extra])


def test_a_resume_without_arguments_runs_the_stored_command(stored, capsys):
    tmp_path, _, started = stored
    args = _resume(tmp_path)
    assert vars(args) == {**vars(started), "resume": True}
    assert capsys.readouterr().out == ""
    # the same design options given again (the printed resume command repeats them all) are no change
    assert vars(_resume(tmp_path, "--k", "1,2", "--seeds", "2", "--set", "eval_samples=500")) == vars(args)


def test_execution_options_are_applied_and_said(stored, capsys):
    tmp_path, _, started = stored
    args = _resume(tmp_path, "--max-failures", "5", "--trial-timeout", "600", "--gpus-per-trial", "0")
    assert (args.max_failures, args.trial_timeout, args.gpus_per_trial) == (5, 600.0, 0.0)
    assert vars(args) == {**vars(started), "resume": True, "max_failures": 5, "trial_timeout": 600.0,
                          "gpus_per_trial": 0.0}
    assert capsys.readouterr().out == ("--resume: applied --gpus-per-trial 0.0 (the study ran with auto); "
                                       "--trial-timeout 600.0 (the study ran with none); --max-failures 5 (the "
                                       "study ran with 2)\n")


@pytest.mark.parametrize("extra, fragment", [
    (["--dataset", "grid25"], "--resume: --dataset grid25 differs from the study's own --dataset (not given: the "
                              "preset's value)"),
    (["--set", "eval_samples=20"], "--resume: --set eval_samples=20 differs from the study's own --set "
                                   "eval_samples=500"),
    (["--steps", "900"], "--resume: --steps 900 differs from the study's own --steps 600"),
    (["--seeds", "3"], "--resume: --seeds 3 differs from the study's own --seeds 2"),
    (["--smoke-test"], "--resume: --smoke-test (given) differs from the study's own --smoke-test (not given)"),
    (["--cpus-per-trial", "2"], "--resume: --cpus-per-trial 2 differs from the study's own --cpus-per-trial 1"),
])
def test_a_design_option_that_differs_is_refused_in_one_line(stored, extra, fragment):
    tmp_path, loc, _ = stored
    with pytest.raises(StudyInputError) as e:
        _resume(tmp_path, *extra)
    message = str(e.value)
    assert message.startswith(fragment + f" ({loc.join('study.json')}: /somewhere/studies/k_sweep.py ")
    assert message.endswith("allowed: leave it out (a resume runs what the study stored), or start a new study "
                            "under another --name")
    assert "\n" not in message


def test_a_stored_command_this_version_cannot_read_is_refused(stored):
    tmp_path, loc, _ = stored
    record = json.loads((tmp_path / "ring" / "study.json").read_text())
    record["command"] = ["studies/k_sweep.py", "--option-of-another-version", "1"]
    (tmp_path / "ring" / "study.json").write_text(json.dumps(record))
    with pytest.raises(StudyInputError) as e:
        _resume(tmp_path)
    assert str(e.value) == (f"--resume: the command stored in {loc.join('study.json')} cannot be read by this "
                            f"version of the study (unrecognized arguments: --option-of-another-version 1); "
                            f"allowed: resume it with the version of gan-study that started it")


def test_without_a_study_the_arguments_are_left_for_the_runner(tmp_path):
    """No study.json: the runner refuses "--resume: no study to resume" (tests/test_bad_input.py)."""
    args = study_args("k_sweep", k_sweep.build_parser, ["--storage-path", str(tmp_path), "--resume", "--k", "3"])
    assert (args.resume, args.k) == (True, [3])


def test_a_study_with_its_own_default_name_is_found(tmp_path):
    """mode_collapse names its experiment after the dataset: a resume finds it the same way."""
    argv = ["--storage-path", str(tmp_path), "--dataset", "grid25", "--seeds", "2"]
    (tmp_path / "mode_collapse_grid25").mkdir()
    (tmp_path / "mode_collapse_grid25" / "study.json").write_text(json.dumps({"command": ["x", *argv]}))
    args = study_args("mode_collapse", mode_collapse.build_parser, ["--storage-path", str(tmp_path), "--resume",
                                                                    "--dataset", "grid25"],
                      name=mode_collapse.default_name)
    assert (args.name, args.seeds, args.dataset) == ("mode_collapse_grid25", 2, "grid25")


def test_the_stored_design_is_checked_against_what_would_run(tmp_path):
    """A caller of run_study (or another version of the code) that builds other trials or another evaluator."""
    loc = locate(str(tmp_path), "ab")
    spec = arch_ablation.build_spec(arch_ablation.build_parser().parse_args(["--smoke-test"]))
    design = design_record(spec, False)
    check_design(loc, design, design_record(spec, False))
    fewer = arch_ablation.build_spec(arch_ablation.build_parser().parse_args(["--smoke-test", "--set",
                                                                              "eval_samples=20"]))
    with pytest.raises(StudyInputError) as e:
        check_design(loc, design, design_record(fewer, False))
    assert str(e.value) == (f"--resume: the study at {loc.experiment_path!r} was started with evaluator "
                            f"config.eval_samples=100, and this run would score with config.eval_samples=20; "
                            f"allowed: resume it with the arguments (and the version of gan-study) it was started "
                            f"with, or start a new study under another --name")
    with pytest.raises(StudyInputError, match=r"was started with evaluator inception=False, and this run would "
                                              r"score with inception=True"):
        check_design(loc, design, design_record(spec, True))
    more_seeds = arch_ablation.build_spec(arch_ablation.build_parser().parse_args(["--smoke-test", "--seeds", "2"]))
    with pytest.raises(StudyInputError, match=r"was started with 9 trials, and this run would have 18"):
        check_design(loc, design, design_record(more_seeds, False))
