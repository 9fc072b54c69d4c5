"""write_report and the CLI: every file on synthetic results, plain-spoken reports, one-line errors."""
import re
import shutil
import subprocess
import sys

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from PIL import Image

from analysis.markdown import num
from analysis.report import main, write_report
from analysis.results import load_results
from analysis.text import effect_sentence

FILES = ["trials.csv", "trials.parquet", "history.parquet", "summary.csv", "summary.parquet", "effects.csv",
         "effects.parquet", "report.md"]
IMAGE_METRICS = ["fd", "cis", "precision", "recall", "density", "coverage", "classes_covered", "class_kl"]
VARIANTS = ["baseline", "batchnorm_d_off", "g_output_off"]


def title_of(path):
    with Image.open(path) as im:
        return im.info.get("Title")


def write_ablation(synth, checkpoint=None, name="ablation", metrics=tuple(IMAGE_METRICS)):
    trials = synth.ablation_trials({"baseline": 0.0, "batchnorm_d_off": 12.0, "g_output_off": 0.0}, seeds=3,
                                   diverged={"batchnorm_d_off": 1}, checkpoint=checkpoint, metrics=metrics,
                                   changes={"batchnorm_d_off": {"batchnorm_d": False},
                                            "g_output_off": {"g_output": "linear"}})
    for t in trials:
        t["n_checkpoints"] = 2
    return synth.write(name, trials, synth.ablation_study)


def test_every_file_and_figure_is_written(synth, dcgan_checkpoint):
    exp = write_ablation(synth, dcgan_checkpoint)
    (exp / "report" / "plots").mkdir(parents=True)
    (exp / "report" / "plots" / "stale.png").write_bytes(b"old")
    out = write_report(str(exp))
    assert out == exp / "report"
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES + ["plots"])
    pngs = sorted(p.name for p in (out / "plots").iterdir())
    assert pngs == sorted([f"curves_{m}.png" for m in IMAGE_METRICS]
                          + [f"effects_{m}.png" for m in IMAGE_METRICS + ["stability"]]
                          + ["stability.png", "forest.png", "interpolation.png", "arithmetic.png"]
                          + [f"samples_{v}_{w}.png" for v in VARIANTS for w in ("best", "worst")])
    md = (out / "report.md").read_text()
    links = re.findall(r"^!\[([^\]]+)\]\((plots/[^)]+)\)$", md, re.M)  # inline images, each on its own line
    assert sorted(rel.split("/")[1] for _, rel in links) == pngs and "- [" not in md  # every figure shown, no link
    for title, rel in links:
        assert plt.imread(out / rel).ndim == 3
        assert title_of(out / rel) == title
    assert title_of(out / "plots" / "curves_fd.png") == "ablation: fd during training (mean and 95% CI over seeds)"
    assert "ablation: share of finished seeds that trained stably" in dict(links)

    trials_csv = pd.read_csv(out / "trials.csv")
    trials_pq = pd.read_parquet(out / "trials.parquet")
    assert len(trials_csv) == len(trials_pq) == 9
    assert trials_pq.columns.tolist() == trials_csv.columns.tolist()
    assert len(pd.read_parquet(out / "history.parquet")) == 8 * 4 + 3
    summary = pd.read_csv(out / "summary.csv")
    assert summary["configuration"].tolist() == VARIANTS
    effects = pd.read_csv(out / "effects.csv", keep_default_na=False, na_values=[""])
    assert effects["comparison"].drop_duplicates().tolist() == ["batchnorm_d_off", "g_output_off"]

    # the answer comes first, and every effect row is read out in its sentence
    assert md.startswith("# Study ablation\n")
    assert md.index("## Answer") < md.index("## Configurations") < md.index("## Effects against the baseline")
    for comp in ("batchnorm_d_off", "g_output_off"):
        assert effect_sentence(effects[effects["comparison"] == comp], "fd") in md
    want = (52 + synth.noise[1:3]).mean() - (40 + synth.noise[:3]).mean()  # seed 0 of the variant diverged
    assert f"- batchnorm_d_off (batchnorm_d=False): fd {num(want, signed=True)} [" in md
    assert "1 of 3 seeds diverged." in md
    assert trials_csv["stability"].tolist() == ["stable"] * 3 + ["diverged", "stable", "stable"] + ["stable"] * 3


def test_report_of_seeds_that_collapsed_or_whose_d_dominated(unstable_dir):
    out = write_report(str(unstable_dir), sample_figures=False)
    md = (out / "report.md").read_text()
    answer = md[md.index("## Answer"):md.index("## Configurations")]
    assert ("- Seeds that did not train stably: **collapsed** 3 of 3 seeds collapsed; **d_wins** D dominated in 3 "
            "of 3 seeds.") in answer
    assert ("stability = share of finished seeds (trainer status ok or diverged) whose stability status is stable "
            "[95% Wilson interval]. A seed's stability status is stable, diverged (") in md
    assert ('assess_stability labels it; thresholds: docs/METRICS.md, section "Stability". Diverged and collapsed seeds are '
            'failed seeds: the effects count them as worse than any finished seed.') in md
    assert "| collapsed | 3/3 (3 collapsed) | 0% [0%, 56%] | 70.0 [" in md
    assert "- **collapsed** (g_output=sigmoid): fd 70.0 [" in md
    assert ("stable in 0 of 3 finished seeds (0% [0%, 56%]): 3 of 3 seeds collapsed; compute per run: FLOPs not "
            "recorded (its reports carry none), 8.00 s of training (measured).") in md
    assert "9 trials: 9 ok (trainer status).\nStability status of the 9 finished: 3 stable, 3 collapsed, " \
           "3 d_dominates (trials.csv: stability, stability_reason)." in md
    summary = pd.read_csv(out / "summary.csv")
    assert summary["stability"].tolist() == [1.0, 0.0, 0.0]
    assert summary["n_collapsed"].tolist() == [0, 3, 0] and summary["n_d_dominates"].tolist() == [0, 0, 3]
    trials = pd.read_csv(out / "trials.csv", keep_default_na=False)
    assert trials["stability"].tolist() == ["stable"] * 3 + ["collapsed"] * 3 + ["d_dominates"] * 3


def test_csv_files_hold_what_load_results_returns(synth):
    exp = write_ablation(synth, metrics=("fd", "cis"))
    out = write_report(str(exp), sample_figures=False)
    r = load_results(str(exp))
    got = pd.read_csv(out / "summary.csv")
    assert got["fd_ci_low"].tolist() == pytest.approx(r.summary["fd_ci_low"].tolist())
    assert got["stability_ci_high"].tolist() == pytest.approx(r.summary["stability_ci_high"].tolist())
    history = pd.read_parquet(out / "history.parquet")
    assert history["fd"].tolist() == pytest.approx(r.history["fd"].tolist(), nan_ok=True)


def test_a_search_reports_its_best_settings_not_effects(synth, ring8_checkpoint):
    import numpy as np

    from gan_core.config import GANConfig

    rng = np.random.default_rng(0)
    trials, settings = [], []
    for seed in range(14):
        lr_d, lr_g = 10 ** rng.uniform(-5, -2), 10 ** rng.uniform(-5, -2)
        settings.append((float(lr_d), float(lr_g)))
        p = {**GANConfig.from_flat({"dataset": "ring8", "lr_d": float(lr_d), "lr_g": float(lr_g),
                                    "seed": seed}).to_flat(), "variant": "tpe"}
        rows = synth.trial_rows(p, {"reverse_kl": float(seed)})
        stopped = seed >= 10  # ASHA stopped the last four after their second evaluation
        trials.append({"params": p, "rows": rows[:2] if stopped else rows, "checkpoint": ring8_checkpoint,
                       "n_checkpoints": 1})
    study = {"study": "lr_search", "primary_metric": "reverse_kl", "mode": "min", "baseline_variant": None,
             "variants": {"tpe": {}}, "factors": ["lr_d", "lr_g"], "baseline": {"lr_d": 1e-3, "lr_g": 1e-3},
             "search": {"searcher": "Optuna TPE", "scheduler": "ASHA"}}
    exp = synth.write("lr", trials, study)
    r = load_results(str(exp))
    assert r.is_search and r.effects.empty
    out = write_report(str(exp))
    assert sorted(p.name for p in (out / "plots").iterdir()) == [
        "curves_reverse_kl.png", "interpolation.png", "samples_best.png", "samples_worst.png", "search.png",
        "stability.png"]
    assert title_of(out / "plots" / "curves_reverse_kl.png") == \
        "lr_search: reverse_kl during training by lr_d (mean and 95% CI over seeds)"
    assert title_of(out / "plots" / "samples_best.png").endswith("best trial (seed 0, final reverse_kl 0, stable)")
    md = (out / "report.md").read_text()
    answer = md[md.index("## Answer"):md.index("## Configurations")]
    assert answer.startswith("## Answer\n\n- A search (searcher Optuna TPE, scheduler ASHA): it chose its settings "
                             "adaptively and stopped trailing trials early")
    assert (f"  - lr_d = {num(settings[0][0])}, lr_g = {num(settings[0][1])}: reverse_kl 0 (trial a1b2c_00000, stable)"
            in answer)
    assert "- 4 of 14 trials were stopped early by the scheduler at g_steps 100 (trials.csv: status stopped)." \
        in answer
    assert "None: this is a search (see the Answer)" in md


def test_remote_input_and_output_through_a_non_local_filesystem(synth, dcgan_checkpoint):
    import fsspec
    from pyarrow import fs as pafs

    exp = write_ablation(synth, dcgan_checkpoint, name="remote", metrics=("fd",))
    mem = fsspec.filesystem("memory")
    mem.store.clear()
    fs = pafs.PyFileSystem(pafs.FSSpecHandler(mem))
    pafs.copy_files(str(exp), "/bucket/remote", source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs)
    out = write_report("/bucket/remote", filesystem=fs)
    assert out == "/bucket/remote/report"
    for name in FILES + ["plots/stability.png", "plots/samples_baseline_best.png", "plots/arithmetic.png"]:
        assert fs.get_file_info(f"{out}/{name}").type == pafs.FileType.File, name
    with fs.open_input_stream(f"{out}/report.md") as f:
        assert f.read().decode().startswith("# Study ablation")


def test_file_uri_input_writes_next_to_it(synth):
    exp = write_ablation(synth, metrics=("fd",))
    out = write_report(exp.as_uri(), sample_figures=False)
    assert out == exp / "report" and (out / "report.md").is_file()


def test_all_diverged_study_gets_a_report_that_says_so(synth):
    trials = synth.ablation_trials({"baseline": 0.0, "other": 5.0}, seeds=3, diverged={"baseline": 3, "other": 3},
                                   metrics=("fd",))
    out = write_report(str(synth.write("dead", trials, synth.ablation_study)), sample_figures=False)
    md = (out / "report.md").read_text()
    assert ("- All 6 finished trials diverged: no configuration trained stably, so there are no fd values to "
            "compare; only stability is reported.") in md
    assert "6 trials: 6 diverged (trainer status).\nStability status of the 6 finished: 6 diverged " \
           "(trials.csv: stability, stability_reason)." in md


def test_failed_trials_are_listed_with_their_error(synth):
    p = synth.base_params
    trials = [{"params": p(seed=s), "rows": [], "error": f"RuntimeError: boom {s}"} for s in range(2)]
    out = write_report(str(synth.write("failed", trials, synth.ablation_study)))
    md = (out / "report.md").read_text()
    assert "- No trial finished (2 error): there is nothing to compare yet." in md
    assert "RuntimeError: boom 1" in md
    assert "No trial has a checkpoint (checkpoint_NNNNNN/state.pt): no sample figures." in md


def test_a_corrupt_checkpoint_is_a_note_not_a_failure(synth, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    trials = synth.ablation_trials({"baseline": 0.0}, seeds=2, checkpoint=bad, metrics=("fd",))
    out = write_report(str(synth.write("corrupt", trials, synth.ablation_study)))
    md = (out / "report.md").read_text()
    assert re.search(r"Figure from .*state\.pt skipped: checkpoint .* is unreadable", md)


def test_cli_writes_to_out(synth, tmp_path, capsys):
    exp = write_ablation(synth, metrics=("fd",))
    assert main([str(exp), "--out", str(tmp_path / "rep"), "--no-samples"]) == 0
    assert capsys.readouterr().out == f"report written to {tmp_path / 'rep'}\n"
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == sorted(FILES + ["plots"])


def test_cli_bad_input_is_one_line_and_exit_2(synth, tmp_path, capsys):
    (tmp_path / "plain").mkdir()
    empty = synth.write("empty", [], synth.ablation_study)
    for path, message in ((tmp_path / "plain", "is not a Ray results directory"),
                          (empty, "is empty: it has no trial folders yet")):
        assert main([str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_cli_as_a_process_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "analysis.report", str(tmp_path / "nope")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == f"error: '{tmp_path / 'nope'}' does not exist; give the experiment folder of a study " \
                          f"(<storage_path>/<study name>)\n"
    assert proc.stdout == ""


def test_cli_reports_a_study_one_of_whose_trials_is_damaged(synth, capsys):
    """A params.json edited to hold null (or lacking a key) used to end the CLI in a traceback: now the report is
    written, the trial is named in the Notes and trials.csv, and the answer counts it out."""
    import json

    exp = write_ablation(synth, metrics=("fd",))
    bad = sorted(d for d in exp.iterdir() if d.is_dir())[1]
    params = json.loads((bad / "params.json").read_text())
    (bad / "params.json").write_text(json.dumps({**params, "k": None}))
    assert main([str(exp), "--no-samples"]) == 0
    assert capsys.readouterr().err == ""
    md = (exp / "report" / "report.md").read_text()
    assert f"\n- trial {bad.name}: damaged, not in the statistics: params.json holds null for k\n" in md
    assert ("- 1 of 9 trials are not in the statistics: 1 damaged (its params.json or result.json cannot be read as "
            "Ray wrote it) (see Trials and Notes).") in md
    trials = pd.read_csv(exp / "report" / "trials.csv", keep_default_na=False)
    assert trials.loc[trials["trial_dir"] == bad.name, ["status", "damage", "k"]].values.tolist() == [
        ["damaged", "params.json holds null for k", 1]]
    assert pd.read_csv(exp / "report" / "summary.csv")["n_finished"].tolist() == [2, 3, 3]


def test_report_of_an_interrupted_study_names_its_unfinished_trials_and_keeps_its_baseline(synth):
    """Finding 2: an interrupted 8-trial k sweep (the k = 5 trials first) whose state says 2 running, 6 pending,
    said "No trial finished (2 running)" and took k = 5 as the baseline. Every trial is counted, in words true
    whether or not a driver still runs, and the baseline is study.json's k = 1."""
    p = synth.base_params
    configs = [(5, "non_saturating"), (5, "minimax"), (2, "non_saturating"), (2, "minimax"),
               (1, "non_saturating"), (1, "minimax"), (3, "non_saturating"), (3, "minimax")]
    trials = [{"params": p(k=k, g_loss=loss, seed=0), "rows": [], "ray_status": "RUNNING" if i < 2 else "PENDING"}
              for i, (k, loss) in enumerate(configs)]
    study = {"study": "k_sweep", "primary_metric": "fd", "mode": "min", "baseline_variant": "k1_non_saturating",
             "factors": ["k", "g_loss"], "baseline": {"k": 1, "g_loss": "non_saturating"}}
    exp = synth.write("interrupted", trials, study)
    folders = sorted(d for d in exp.iterdir() if d.is_dir())
    for d in folders[2:]:  # pending: Ray has not yet made their folders
        shutil.rmtree(d)
    md = (write_report(str(exp), sample_figures=False) / "report.md").read_text()
    assert ("Factors: k (baseline level 1, from study.json baseline), g_loss (baseline level non_saturating, from "
            "study.json baseline).") in md
    assert ("- No trial finished (6 pending, 2 running when Ray last saved the study's state): there is nothing to "
            "compare yet.") in md
    assert "8 trials: 6 pending, 2 running (trainer status)." in md
    for d in folders:
        status = "running" if d in folders[:2] else "pending"
        assert f"\n- {d.name}: not finished ({status} when Ray last saved the study's state)\n" in md
    assert "- 8 of 8 trials had not finished when Ray last saved the study's state (experiment_state-" in md


def _types(df):
    return {c: str(t) for c, t in df.dtypes.items()}


@pytest.mark.parametrize("fixture", ["ksweep_dir", "ablation_dir"])
def test_every_table_has_one_type_per_column_in_its_csv_and_its_parquet_file(fixture, request):
    """No object column in any parquet file; pandas reads each CSV with the types of its parquet file, except the
    boolean columns with missing values (which a CSV cannot type), and with those named, the CSV reads as the
    parquet file does, value for value."""
    out = write_report(str(request.getfixturevalue(fixture)), sample_figures=False)
    for name in ("trials", "summary", "effects"):
        pq, csv = pd.read_parquet(out / f"{name}.parquet"), pd.read_csv(out / f"{name}.csv")
        assert [c for c, t in _types(pq).items() if t == "object"] == [], name
        nullable = sorted(c for c, t in _types(pq).items() if t == "boolean")
        assert nullable == (["improving_baseline", "improving_level"] if name == "effects" else []), name
        assert {c: t for c, t in _types(csv).items() if t != _types(pq)[c]} == {c: "object" for c in nullable}
        pd.testing.assert_frame_equal(pd.read_csv(out / f"{name}.csv", dtype={c: "boolean" for c in nullable}), pq)
    history = pd.read_parquet(out / "history.parquet")
    assert [c for c, t in _types(history).items() if t == "object"] == []


def test_levels_and_flags_are_typed_as_their_values(ksweep_dir, ablation_dir):
    out = write_report(str(ksweep_dir), sample_figures=False)
    trials = pd.read_parquet(out / "trials.parquet")
    assert (str(trials["k_level"].dtype), str(trials["g_loss_level"].dtype)) == ("int64", "str")
    assert str(pd.read_csv(out / "trials.csv")["k_level"].dtype) == "int64"
    assert sorted(set(trials["k_level"])) == [1, 2, 5]
    summary = pd.read_parquet(out / "summary.parquet")
    assert (str(summary["fd_improving"].dtype), summary["fd_improving"].tolist()) == ("bool", [True] * 6)
    assert str(trials["error"].dtype) == "float64" and trials["error"].isna().all()  # no value: missing, as CSV reads
    effects = pd.read_parquet(out / "effects.parquet")
    assert [str(effects[c].dtype) for c in ("improving_level", "improving_baseline")] == ["boolean", "boolean"]
    # read only where neither side has a failed seed and the comparison is clear (analysis.effects)
    assert effects["improving_level"].isna().sum() == effects["improving_baseline"].isna().sum()
    assert set(effects["improving_level"].dropna()) == {True}

    out = write_report(str(ablation_dir), sample_figures=False)
    trials = pd.read_parquet(out / "trials.parquet")
    assert [str(trials[c].dtype) for c in ("variant_level", "batchnorm_d", "status")] == ["str", "bool", "str"]
