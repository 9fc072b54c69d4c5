"""gan_core.population: N members trained as one batched computation are exactly N solo Trainers (float64, CPU):
weights, BatchNorm running statistics, optimizer state, reports; a member's checkpoint continues in a Trainer; a
member that diverges is frozen while the others go on."""
from __future__ import annotations

import math

import pytest
import torch

from gan_core.config import GANConfig
from gan_core.metrics import build_evaluator
from gan_core.population import Population, member_folder
from gan_core.trainer import Trainer

SEEDS = (0, 1, 2)
TOLERANCE = 1e-10
CONFIGS = {
    # PacGAN's G: BatchNorm in the MLP generator; k = 2
    "ring8_bn_g_k2": {"dataset": "ring8", "batchnorm_g": True, "mlp_hidden": 16, "k": 2, "batch_size": 32},
    # the DCGAN with BatchNorm in G and D
    "dcgan_bn": {"dataset": "mnist5k", "ngf": 8, "ndf": 8, "nz": 16, "batch_size": 8},
    # PacGAN's updates: simultaneous, packs of 2; the GAN paper's SGD with momentum; maxout
    "ring8_simultaneous_pack_sgd": {"dataset": "ring8", "mlp_hidden": 16, "updates": "simultaneous", "pack": 2,
                                    "optimizer": "sgd", "momentum": 0.5, "lr_d": 0.05, "lr_g": 0.05,
                                    "maxout_pieces": 3, "batch_size": 16},
    # the GAN paper's schedules (learning-rate decay to a floor, a momentum ramp) and its uniform noise
    "ring8_paper_schedules": {"dataset": "ring8", "mlp_hidden": 16, "updates": "simultaneous", "noise": "uniform",
                              "optimizer": "sgd", "momentum": 0.5, "momentum_final": 0.7, "momentum_ramp": 6,
                              "lr_d": 0.05, "lr_g": 0.1, "lr_decay": 1.05, "lr_min": 0.04, "batch_size": 16},
}


@pytest.fixture
def float64():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def _cfg(name: str, **over) -> GANConfig:
    return GANConfig.from_flat({"steps": 8, "eval_every": 4, "threads": 1, "device": "cpu", **CONFIGS[name], **over})


def _state_tensors(trainer: Trainer) -> dict[str, torch.Tensor]:
    """Everything of a run's state that training changes: weights, buffers, optimizer moments."""
    out = {f"G.{k}": v for k, v in trainer.G.state_dict().items()}
    out.update({f"D.{k}": v for k, v in trainer.D.state_dict().items()})
    for name, opt in (("opt_g", trainer.opt_g), ("opt_d", trainer.opt_d)):
        for idx, st in opt.state_dict()["state"].items():
            out.update({f"{name}.{idx}.{k}": v for k, v in st.items() if torch.is_tensor(v)})
    return out


def _assert_same_state(a: Trainer, b: Trainer) -> None:
    sa, sb = _state_tensors(a), _state_tensors(b)
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        torch.testing.assert_close(sa[k], sb[k], rtol=0, atol=TOLERANCE, msg=k)


def _assert_same_report(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if k in ("train_time_s", "eval_time_s"):
            continue
        if isinstance(a[k], float):
            assert a[k] == pytest.approx(b[k], rel=0, abs=TOLERANCE, nan_ok=True), k
        else:
            assert a[k] == b[k], k


@pytest.mark.parametrize("name", list(CONFIGS))
def test_a_population_step_is_its_members_solo_steps(name, float64):
    cfg = _cfg(name)
    population = Population(cfg, SEEDS)
    solo = [Trainer(cfg.replace(seed=s)) for s in SEEDS]
    for m, t in zip(population.members, solo):  # the same initialisation as a solo run of the seed
        _assert_same_state(m, t)
    for _ in range(5):
        population.iteration()
        for t in solo:
            t.iteration()
    population.sync_members()
    for m, t in zip(population.members, solo):
        assert (m.g_steps, m.d_steps) == (t.g_steps, t.d_steps) == (5, 5 * (cfg.k if cfg.updates == "alternating"
                                                                            else 1))
        _assert_same_state(m, t)
        assert any("running_mean" in k for k in _state_tensors(m)) == (cfg.batchnorm_g or cfg.arch == "dcgan")
    # each member's own streams drew its minibatches: the members differ from each other
    assert not torch.equal(population.members[0].G.state_dict()[next(iter(solo[0].G.state_dict()))],
                           population.members[1].G.state_dict()[next(iter(solo[0].G.state_dict()))])


def test_reports_with_an_evaluator_are_the_solo_reports(float64):
    cfg = _cfg("ring8_bn_g_k2", steps=12)
    evaluator = build_evaluator(cfg.replace(eval_samples=500), device="cpu")
    reports = list(Population(cfg, SEEDS, evaluator=evaluator).run())
    assert [sorted(r) for r in reports] == [list(SEEDS)] * 3
    for s in SEEDS:
        solo = list(Trainer(cfg.replace(seed=s), evaluator=evaluator).run())
        assert [r[s]["g_steps"] for r in reports] == [d["g_steps"] for d in solo] == [4, 8, 12]
        for got, want in zip((r[s] for r in reports), solo):
            _assert_same_report(got, want)
        assert solo[-1]["status"] == "ok" and "stability" in solo[-1]


def test_a_members_checkpoint_continues_in_a_plain_trainer_and_a_population_resumes(tmp_path, float64):
    cfg = _cfg("dcgan_bn", steps=8, eval_every=2)
    whole = {s: list(Trainer(cfg.replace(seed=s)).run()) for s in SEEDS}
    first = Population(cfg, SEEDS)
    for _ in zip(range(2), first.run()):
        pass  # reports at g_steps 2 and 4
    first.save(tmp_path)
    # one member's checkpoint, in a plain Trainer
    alone = Trainer(cfg.replace(seed=1))
    alone.load(tmp_path / member_folder(1) / "state.pt")
    rest = list(alone.run())
    assert [r["g_steps"] for r in rest] == [6, 8]
    for got, want in zip(rest, whole[1][2:]):
        _assert_same_report(got, want)
    # the whole population, resumed
    resumed = Population(cfg, SEEDS)
    resumed.load(tmp_path)
    reports = list(resumed.run())
    assert [sorted(r) for r in reports] == [list(SEEDS)] * 2
    for s in SEEDS:
        for got, want in zip((r[s] for r in reports), whole[s][2:]):
            _assert_same_report(got, want)


def test_a_member_that_diverges_is_reported_and_frozen_while_the_others_go_on(tmp_path, float64):
    cfg = _cfg("ring8_bn_g_k2", steps=12, k=1)
    population = Population(cfg, SEEDS)
    bad = population.members[1]
    sample = bad.data.sample

    def poisoned(n, gen):  # the shared data: NaN for member 1's draws from generator step 5 on
        batch = sample(n, gen)
        return batch * float("nan") if gen is bad.data_gen and population.g_steps >= 5 else batch
    bad.data.sample = poisoned
    reports, frozen = [], None
    for r in population.run():
        reports.append(r)
        if len(reports) == 2:  # member 1 has just diverged: its state as it was then
            population.sync_members()
            frozen = {k: v.clone() for k, v in _state_tensors(bad).items()}
    assert [sorted(r) for r in reports] == [[0, 1, 2], [0, 1, 2], [0, 2]]
    assert [(r[1]["status"], r[1]["g_steps"]) for r in reports[:2]] == [("running", 4), ("diverged", 8)]
    assert math.isnan(reports[1][1]["d_loss"])
    population.save(tmp_path)  # its checkpoint: as it was when it diverged
    saved = Trainer(cfg.replace(seed=1))
    saved.load(tmp_path / member_folder(1) / "state.pt")
    after = _state_tensors(saved)
    assert after.keys() == frozen.keys()
    for k in after:  # bit for bit as it was, NaN where it was NaN
        torch.testing.assert_close(after[k], frozen[k], rtol=0, atol=0, equal_nan=True, msg=k)
    assert (saved.status, saved.g_steps, bad.status, bad.g_steps) == ("diverged", 8, "diverged", 8)
    for i in (0, 2):  # the others as if alone
        solo = Trainer(cfg.replace(seed=SEEDS[i]))
        want = list(solo.run())
        _assert_same_report(reports[-1][SEEDS[i]], want[-1])
        _assert_same_state(population.members[i], solo)


def test_what_a_population_cannot_run_is_refused():
    cfg = GANConfig.from_flat({"dataset": "ring8"})
    with pytest.raises(ValueError, match=r"^seeds = \[0, 0\]; allowed: one or more distinct seeds$"):
        Population(cfg, [0, 0])
    with pytest.raises(ValueError) as e:
        Population(cfg.replace(dropout_input=0.2), [0, 1])
    assert str(e.value) == ("a population cannot run dropout_input = 0.2 (it would use dropout, which draws from "
                            "torch's one global random stream, shared by all its members); allowed: 0.0, or one "
                            "member per run")


def test_a_population_whose_first_member_diverged_resumes_the_others_exactly(tmp_path, float64):
    """The stacked optimizer has one step count: after a resume it is a running member's, not the first's."""
    cfg = _cfg("ring8_bn_g_k2", steps=16, k=1)
    population = Population(cfg, SEEDS)
    first = population.members[0]
    sample = first.data.sample

    def poisoned(n, gen):
        batch = sample(n, gen)
        return batch * float("nan") if gen is first.data_gen and population.g_steps >= 1 else batch
    first.data.sample = poisoned
    for _ in zip(range(2), population.run()):
        pass  # member 0 diverged at the report of g_steps 4; the others ran on to 8
    assert (first.status, first.g_steps, population.g_steps) == ("diverged", 4, 8)
    population.save(tmp_path)
    resumed = Population(cfg, SEEDS)
    resumed.load(tmp_path)
    rest = list(resumed.run())
    assert [sorted(r) for r in rest] == [[1, 2], [1, 2]]
    for seed in (1, 2):
        solo = list(Trainer(cfg.replace(seed=seed)).run())
        for got, want in zip((r[seed] for r in rest), solo[2:]):
            _assert_same_report(got, want)


def test_a_members_samples_recalibrate_its_batchnorm_as_a_solo_runs_do(float64):
    """A member's samples after a report are the solo run's, and so are its state and checkpoint afterwards (a
    recalibration is a function of G's weights and the fixed calibration noise, whatever the statistics were)."""
    cfg = _cfg("ring8_bn_g_k2")
    population = Population(cfg, SEEDS)
    solo = Trainer(cfg.replace(seed=1))
    for got, want in zip(population.run(), solo.run()):
        _assert_same_report(got[1], want)
        a = population.member(1).sample(50, recalibrate=True)
        b = solo.sample(50, recalibrate=True)
        assert float((a - b).abs().max()) == pytest.approx(0.0, abs=TOLERANCE)
    population.sync_members()
    _assert_same_state(population.member(1), solo)
    with pytest.raises(ValueError, match=r"^seed 7 is not a member; allowed: one of \[0, 1, 2\]$"):
        population.member(7)


def test_a_checkpoint_with_an_unreadable_member_loads_no_member(tmp_path, float64):
    """Every member's file is read before any is loaded: a damaged one leaves the whole population as it was."""
    from gan_core.checkpoint import UnreadableCheckpoint

    cfg = _cfg("ring8_bn_g_k2")
    trained = Population(cfg, SEEDS)
    next(trained.run())
    trained.save(tmp_path)
    (tmp_path / member_folder(2) / "state.pt").write_bytes(b"junk\n")
    fresh = Population(cfg, SEEDS)
    untouched = Population(cfg, SEEDS)
    with pytest.raises(UnreadableCheckpoint, match="is unreadable"):
        fresh.load(tmp_path)
    for seed in SEEDS:
        _assert_same_state(fresh.member(seed), untouched.member(seed))
    assert fresh.g_steps == 0
