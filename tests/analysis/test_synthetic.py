"""The synthetic results directories read back as what was planted."""
import json
import math

from analysis.load import read_study
from analysis.synthetic import NOT_A_PICKLE, trial_rows, write_experiment


def test_trial_rows_move_to_the_final_values_and_stop_at_divergence():
    rows = trial_rows({"k": 2}, {"fd": 10.0}, n_evals=4, eval_every=50)
    assert [(r["g_steps"], r["d_steps"], r["status"], r["fd"]) for r in rows] == [
        (50, 100, "running", 17.5), (100, 200, "running", 15.0), (150, 300, "running", 12.5), (200, 400, "ok", 10.0)]
    rows = trial_rows({}, {"fd": 10.0}, diverge_at=3)
    assert [r["status"] for r in rows] == ["running", "running", "diverged"] and math.isnan(rows[-1]["fd"])
    assert all("flops" not in r for r in rows)
    # each report carries the run's stability so far, as the trainer computes it (gan_core.metrics.stability)
    assert [r["stability"] for r in rows] == ["stable", "stable", "diverged"]
    assert rows[1]["steps_to_90pct"] == 100 and rows[-1]["stability_reason"].startswith("trainer status 'diverged'")


def test_trial_rows_carry_a_given_stability_and_cumulative_flops_when_asked():
    rows = trial_rows({}, {"fd": 10.0}, diverge_at=3, stability="collapsed", flops_per_step=1000)
    assert [(r["stability"], r["flops"]) for r in rows] == \
        [("collapsed", 50_000), ("collapsed", 100_000), ("diverged", 150_000)]


def test_a_written_experiment_reads_back_with_rays_layout(tmp_path):
    params = {"dataset": "ring8", "seed": 1, "variant": "v"}
    exp = write_experiment(tmp_path, "e", [{"params": params, "rows": trial_rows(params, {"reverse_kl": 0.5})},
                                           {"params": {**params, "seed": 2}, "rows": [], "error": "ValueError: x"}],
                           {"study": "e", "primary_metric": "reverse_kl", "mode": "min"})
    names = sorted(p.name for p in exp.iterdir())
    assert names == [".validate_storage_marker", "basic-variant-state-2026-11-25_12-00-00.json",
                     "experiment_state-2026-11-25_12-00-00.json", "study.json", "tuner.pkl", "v_seed1_a1b2c_00000",
                     "v_seed2_a1b2c_00001"]
    assert (exp / "tuner.pkl").read_bytes() == NOT_A_PICKLE
    state = json.loads((exp / "experiment_state-2026-11-25_12-00-00.json").read_text())
    assert [json.loads(t)["status"] for t, _ in state["trial_data"]] == ["TERMINATED", "ERROR"]
    t = read_study(str(exp)).trials
    assert t["status"].tolist() == ["ok", "error"] and t["final_reverse_kl"].tolist()[0] == 0.5
