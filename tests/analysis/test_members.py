"""A population trial's folder is read as one result per member: the same rows, histories and checkpoints that
solo trials of the same seeds give, a member that diverged early neither incomplete nor missing."""
from __future__ import annotations

import shutil

import pandas as pd

from analysis.load import read_study
from analysis.members import member_params, member_rows, member_seeds

STUDY = {"study": "pop", "primary_metric": "fd", "mode": "min", "baseline_variant": "gan"}
SEEDS = (0, 1, 2)


def _member_reports(synth):
    """Each seed's reports as the trainer makes them; seed 2 diverges at its third report (and stops there)."""
    p = synth.base_params
    return {s: synth.trial_rows(p(seed=s, variant="gan"), {"fd": 10.0 + s, "cis": 5.0 - s},
                                diverge_at=3 if s == 2 else None) for s in SEEDS}


def _population_rows(reports):
    """What studies.trainable.population_report sends: each report with the members that reported."""
    rows = []
    for i in range(max(len(r) for r in reports.values())):
        members = {f"seed_{s}": r[i] for s, r in reports.items() if i < len(r)}
        rows.append({"fd": 0.0, "g_steps": 50 * (i + 1), "members_reporting": len(members), "members": members})
    return rows


def _states(folder, names):
    for name in names:
        (folder / name).mkdir(parents=True)
        (folder / name / "state.pt").write_bytes(b"a state")


def test_a_population_reads_as_the_solo_trials_of_its_seeds(synth):
    reports = _member_reports(synth)
    p = synth.base_params
    solo = synth.write("solo", [{"params": p(seed=s, variant="gan"), "rows": reports[s], "n_checkpoints": 2}
                                for s in SEEDS], STUDY)
    for d in sorted(x for x in solo.iterdir() if x.is_dir()):
        seed = int(d.name.split("_seed")[1].split("_")[0])
        _states(d, [f"checkpoint_{i:06d}" for i in range(len(reports[seed]) - 2, len(reports[seed]))])
    pop = synth.write("pop", [{"params": {**p(seed=0, variant="gan"), "members": list(SEEDS)},
                               "rows": _population_rows(reports), "n_checkpoints": 2}], STUDY)
    (tdir,) = [d for d in pop.iterdir() if d.is_dir()]
    _states(tdir, [f"checkpoint_{i:06d}/seed_{s}" for i in (2, 3) for s in (0, 1)] + ["checkpoint_000002/seed_2"])

    a, b = read_study(str(solo)), read_study(str(pop))
    assert b.notes == a.notes == []
    tid = b.trials["population"][0]
    assert b.trials["trial_id"].tolist() == [f"{tid}_seed_{s}" for s in SEEDS]
    assert b.trials["population"].tolist() == [tid] * 3
    assert b.trials["trial_dir"].tolist() == [tdir.name] * 3
    assert b.trials["status"].tolist() == a.trials["status"].tolist() == ["ok", "ok", "diverged"]
    assert b.trials["checkpoint"].tolist() == ["checkpoint_000003/seed_0", "checkpoint_000003/seed_1",
                                               "checkpoint_000002/seed_2"]
    assert b.trials["best_checkpoint"].tolist() == ["checkpoint_000003/seed_0", "checkpoint_000003/seed_1", ""]
    same = [c for c in a.trials.columns if c not in ("trial_id", "trial_dir", "checkpoint", "best_checkpoint",
                                                     "n_checkpoints")]
    pd.testing.assert_frame_equal(b.trials[same], a.trials[same])
    assert b.trials["n_checkpoints"].tolist() == [2, 2, 1]
    hist = [c for c in a.history.columns if c not in ("trial_id", "trial_dir", "checkpoint_dir_name", "timestamp",
                                                      "time_total_s", "time_since_restore")]
    pd.testing.assert_frame_equal(b.history[hist], a.history[hist])


def test_a_removed_population_folder_is_one_missing_row_per_member(synth):
    reports = _member_reports(synth)
    p = synth.base_params
    pop = synth.write("pop", [{"params": {**p(seed=0, variant="gan"), "members": list(SEEDS)},
                               "rows": _population_rows(reports)},
                              {"params": p(seed=0, variant="solo"), "rows": reports[0]}], STUDY)
    (tdir,) = [d for d in pop.iterdir() if d.is_dir() and d.name.startswith("gan")]
    shutil.rmtree(tdir)
    data = read_study(str(pop))
    t = data.trials.sort_values(["variant", "seed"])
    assert t["status"].tolist() == ["missing"] * 3 + ["ok"]
    assert t["seed"].tolist() == [*SEEDS, 0]
    assert t["trial_dir"].tolist()[:3] == [tdir.name] * 3
    assert t["population"].tolist()[:3] == [t["population"].iloc[0]] * 3 and pd.isna(t["population"].iloc[3])
    assert "members" not in t.columns
    assert data.notes == [f"trial {tdir.name}: listed in Ray's experiment state (TERMINATED) but its folder is "
                          f"missing: not in the statistics"]


def test_member_helpers():
    assert member_seeds({"seed": 3}) is None
    assert member_seeds({"members": [3, 4]}) == [3, 4]
    assert member_seeds({"members": "3,4"}) is None
    assert member_params({"members": [3, 4], "seed": 3, "k": 2}, 4) == {"seed": 4, "k": 2}
    rows = [{"training_iteration": 1, "checkpoint_dir_name": "checkpoint_000000", "fd": 1.5, "members_reporting": 2,
             "members": {"seed_3": {"fd": 1.0, "status": "running"}, "seed_4": {"fd": 2.0, "status": "diverged"}}},
            {"training_iteration": 2, "checkpoint_dir_name": None, "fd": 3.0, "members_reporting": 1,
             "members": {"seed_3": {"fd": 3.0, "status": "ok"}}},
            {"training_iteration": 3}]  # cut short: no members
    assert member_rows(rows, 4) == [{"training_iteration": 1, "checkpoint_dir_name": "checkpoint_000000/seed_4",
                                     "fd": 2.0, "status": "diverged"}]
    assert [r["status"] for r in member_rows(rows, 3)] == ["running", "ok"]
    assert member_rows(rows, 3)[1]["checkpoint_dir_name"] is None
