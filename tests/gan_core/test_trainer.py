"""Algorithm 1 exactly: the k-step schedule, fresh minibatches, exact resume, determinism, divergence as a result."""
import math

import pytest
import torch

from gan_core import algorithm
from gan_core.checkpoint import CheckpointError
from gan_core.config import MAX_SEED, GANConfig
from gan_core.cost import iteration_flops
from gan_core.trainer import Trainer

TIME_KEYS = ("train_time_s", "eval_time_s")
RING = {"dataset": "ring8", "steps": 12, "eval_every": 4, "batch_size": 32, "mlp_hidden": 16}
TINY_DCGAN = {"dataset": "mnist5k", "ngf": 8, "ndf": 8, "batch_size": 8, "steps": 6, "eval_every": 2}


def without_time(history):
    return [{k: v for k, v in m.items() if k not in TIME_KEYS} for m in history]


def params(module):
    return [p.detach().clone() for p in module.parameters()] + [b.clone() for b in module.buffers()]


def same_tensors(a, b):
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("k", [1, 3, 5])
def test_d_steps_is_k_times_g_steps_and_each_step_counted_once(k):
    trainer = Trainer(GANConfig.from_flat({**RING, "k": k}))
    calls = {"d": 0, "g": 0, "data": 0, "noise": 0}
    for name, opt in (("d", trainer.opt_d), ("g", trainer.opt_g)):
        step = opt.step

        def counted(*a, _step=step, _name=name, **kw):
            calls[_name] += 1
            return _step(*a, **kw)
        opt.step = counted
    sample, noise = trainer.data.sample, trainer.noise

    def counted_sample(*a, **kw):
        calls["data"] += 1
        return sample(*a, **kw)

    def counted_noise(*a, **kw):
        calls["noise"] += 1
        return noise(*a, **kw)
    trainer.data.sample, trainer.noise = counted_sample, counted_noise
    history = list(trainer.run())
    assert [m["g_steps"] for m in history] == [4, 8, 12]
    assert [m["d_steps"] for m in history] == [4 * k, 8 * k, 12 * k]
    assert [m["status"] for m in history] == ["running", "running", "ok"]
    # k fresh data minibatches and k + 1 fresh noise batches per iteration, one optimizer step each
    assert calls == {"d": 12 * k, "g": 12, "data": 12 * k, "noise": 12 * (k + 1)}


def test_each_update_changes_only_its_own_network():
    trainer = Trainer(GANConfig.from_flat(RING))
    g_before, d_before = params(trainer.G), params(trainer.D)
    algorithm.d_step(trainer)
    assert same_tensors(params(trainer.G), g_before)
    assert not same_tensors(params(trainer.D), d_before)
    d_after = [p.detach().clone() for p in trainer.D.parameters()]
    algorithm.g_step(trainer)
    assert same_tensors([p.detach().clone() for p in trainer.D.parameters()], d_after)
    assert not same_tensors(params(trainer.G), g_before)
    assert all(p.requires_grad for p in trainer.D.parameters())


def test_metrics_dict_has_every_documented_key():
    (last,) = list(Trainer(GANConfig.from_flat({**RING, "steps": 4})).run())
    assert set(last) == {"g_steps", "d_steps", "status", "d_loss", "d_loss_real", "d_loss_fake", "d_real", "d_fake",
                         "grad_norm_d", "g_loss", "grad_norm_g", "value", "train_time_s", "eval_time_s", "flops"}
    assert last["value"] == -last["d_loss"]
    assert last["d_loss"] == pytest.approx(last["d_loss_real"] + last["d_loss_fake"], rel=1e-6)
    assert 0 < last["d_real"] < 1 and 0 < last["d_fake"] < 1


def test_each_report_counts_the_training_flops_so_far():
    cfg = GANConfig.from_flat({**TINY_DCGAN, "k": 2, "steps": 4, "eval_every": 2})
    reports = list(Trainer(cfg).run())
    assert [r["flops"] for r in reports] == [2 * iteration_flops(cfg), 4 * iteration_flops(cfg)]


@pytest.mark.parametrize("flat", [RING, TINY_DCGAN, {**TINY_DCGAN, "k": 2, "g_loss": "minimax"}])
def test_same_seed_gives_identical_metrics_and_another_seed_does_not(flat):
    cfg = GANConfig.from_flat(flat)
    first = without_time(Trainer(cfg).run())
    second = without_time(Trainer(cfg).run())
    assert first == second
    other = without_time(Trainer(cfg.replace(seed=1)).run())
    assert other != first


def test_the_largest_seed_runs_reproducibly_and_unlike_seed_0():
    cfg = GANConfig.from_flat({**RING, "seed": MAX_SEED})
    first = without_time(Trainer(cfg).run())
    assert first == without_time(Trainer(cfg).run())
    assert first != without_time(Trainer(cfg.replace(seed=0)).run())


# The GAN paper's MNIST model in its own frame, tiny: 28 px in [0, 1], sigmoid with the marginal bias, uniform
# noise, SGD with the decay and the momentum ramp (fast, to be seen within 12 steps), simultaneous updates.
PAPER_TINY = {"dataset": "mnist5k", "arch": "mlp", "mlp_hidden": 32, "mlp_hidden_d": 16, "maxout_pieces": 3,
              "dropout_input": 0.2, "dropout_hidden": 0.5, "image_size": 28, "pixel_range": "0..1",
              "g_output": "sigmoid", "g_bias": "marginals", "noise": "uniform", "init": "uniform",
              "optimizer": "sgd", "momentum": 0.5, "momentum_final": 0.7, "momentum_ramp": 8, "lr_d": 0.05,
              "lr_g": 0.1, "lr_decay": 1.01, "lr_min": 0.05 / 1.01 ** 4.5, "updates": "simultaneous", "batch_size": 8,
              "steps": 12, "eval_every": 4}


@pytest.mark.parametrize("flat", [RING, TINY_DCGAN, {**RING, "updates": "simultaneous", "pack": 2, "batchnorm_g": True,
                                                  "optimizer": "sgd", "momentum": 0.5, "lr_d": 0.01, "lr_g": 0.01},
                                  PAPER_TINY, {**TINY_DCGAN, "spectral_norm_d": True},
                                  {**TINY_DCGAN, "precision": "bf16"}])
def test_save_load_continue_equals_an_unbroken_run_bit_for_bit(flat, tmp_path):
    cfg = GANConfig.from_flat(flat)
    unbroken = Trainer(cfg)
    full = without_time(unbroken.run())

    first = Trainer(cfg)
    run = first.run()
    head = [next(run)]  # stop after the first report, as a crashed trial would
    first.save(tmp_path / "state.pt")
    del first, run

    resumed = Trainer(cfg)
    resumed.load(tmp_path / "state.pt")
    assert resumed.g_steps == flat["eval_every"]
    tail = list(resumed.run())
    assert without_time(head + tail) == full
    assert same_tensors(params(resumed.G), params(unbroken.G))
    assert same_tensors(params(resumed.D), params(unbroken.D))


def test_resuming_mid_interval_keeps_the_interval_means(tmp_path):
    cfg = GANConfig.from_flat(RING)
    full = without_time(Trainer(cfg).run())
    first = Trainer(cfg)
    assert without_time([next(first.run())]) == full[:1]
    for _ in range(2):  # stop 1.5 intervals in, between two reports
        first.iteration()
    first.save(tmp_path / "state.pt")
    resumed = Trainer(cfg)
    resumed.load(tmp_path / "state.pt")
    assert without_time(resumed.run()) == full[1:]


def test_checkpoint_of_another_config_is_refused(tmp_path):
    Trainer(GANConfig.from_flat(RING)).save(tmp_path / "state.pt")
    other = Trainer(GANConfig.from_flat({**RING, "k": 2}))
    with pytest.raises(CheckpointError, match="'k' is 1 there and 2 here"):
        other.load(tmp_path / "state.pt")
    # where and how fast it runs may change
    Trainer(GANConfig.from_flat({**RING, "threads": 2})).load(tmp_path / "state.pt")


def test_a_checkpoint_of_another_device_type_is_refused_in_one_line(tmp_path):
    Trainer(GANConfig.from_flat(RING)).save(tmp_path / "state.pt")
    state = torch.load(tmp_path / "state.pt", weights_only=True)
    state["rng"]["data"] = torch.zeros(16, dtype=torch.uint8)  # a CUDA generator's state: seed and offset
    state["rng"]["noise"] = torch.zeros(16, dtype=torch.uint8)
    with pytest.raises(CheckpointError) as e:
        Trainer(GANConfig.from_flat(RING)).load_state_dict(state)
    assert str(e.value) == ("checkpoint was saved by a run on cuda and this run is on cpu: its random streams are "
                            "cuda generator states, which a cpu run cannot continue; allowed: resume on cuda (config "
                            "key 'device')")


@pytest.mark.parametrize("chosen", ["bf16", "fp32"])
def test_precision_auto_is_the_devices_and_a_run_does_not_change_it_on_resume(tmp_path, monkeypatch, chosen):
    """auto runs in what ``resolve_precision`` picks for the device (bf16 for a DCGAN on a GPU with native bf16;
    here faked), with the same numbers as that precision asked for explicitly; a CPU with native bf16 still picks
    fp32; a checkpoint continues only in the precision it was computed in, whatever the config says."""
    import gan_core.runtime
    import gan_core.trainer

    monkeypatch.setattr(gan_core.runtime, "native_bf16", lambda device: True)
    assert Trainer(GANConfig.from_flat({**TINY_DCGAN, "precision": "auto"})).precision == "fp32"  # on this CPU
    monkeypatch.setattr(gan_core.trainer, "resolve_precision",
                        lambda cfg, device: chosen if cfg.precision == "auto" else cfg.precision)
    auto = Trainer(GANConfig.from_flat({**TINY_DCGAN, "precision": "auto"}))
    assert auto.precision == chosen
    explicit = Trainer(GANConfig.from_flat({**TINY_DCGAN, "precision": chosen}))
    assert without_time(auto.run()) == without_time(explicit.run())

    auto.save(tmp_path / "auto.pt")
    Trainer(GANConfig.from_flat({**TINY_DCGAN, "precision": chosen})).load(tmp_path / "auto.pt")
    other = "fp32" if chosen == "bf16" else "bf16"
    with pytest.raises(CheckpointError) as e:
        Trainer(GANConfig.from_flat({**TINY_DCGAN, "precision": other})).load(tmp_path / "auto.pt")
    assert str(e.value) == (f"checkpoint was computed in {chosen} and this run would compute in {other} "
                            f"(precision {other!r} on this device): a run does not change precision halfway; "
                            f"allowed: --set precision={chosen}")


BN_DCGAN = {**TINY_DCGAN, "nz": 16, "eval_samples": 64}


def test_the_number_of_d_steps_alone_does_not_change_an_evaluation():
    """G's BatchNorm running statistics are updated in each of the k D steps; evaluation recomputes them from
    fixed noise, so two generators with the same weights but k = 1 and k = 3 histories sample alike."""
    one, three = (Trainer(GANConfig.from_flat({**BN_DCGAN, "k": k})) for k in (1, 3))
    for _ in range(3):
        one.iteration()
        three.iteration()
    weights = {k: v for k, v in one.G.state_dict().items() if "running" not in k and "num_batches" not in k}
    three.G.load_state_dict(weights, strict=False)  # same weights, their own running statistics
    z = one.eval_noise(32)
    with torch.no_grad():  # eval mode as it was: the running statistics differ, and so do the samples
        raw = [t.G.eval()(z) for t in (one, three)]
    assert not torch.equal(*raw)
    assert torch.equal(one.sample(32), three.sample(32))


def _poison_data_from(trainer: Trainer, g_steps: int) -> None:
    """From generator step ``g_steps`` on, every data minibatch is NaN: the losses go non-finite at once."""
    sample = trainer.data.sample

    def poisoned(n, gen):
        batch = sample(n, gen)
        return batch * float("nan") if trainer.g_steps >= g_steps else batch
    trainer.data.sample = poisoned


def test_a_non_finite_loss_ends_the_run_as_diverged_at_the_next_report():
    """Divergence is checked once a report, on the running sums: a NaN from step 6 on is found at the report of
    step 8, never reported as running."""
    trainer = Trainer(GANConfig.from_flat(RING))
    _poison_data_from(trainer, 5)
    history = list(trainer.run())
    assert [(m["status"], m["g_steps"]) for m in history] == [("running", 4), ("diverged", 8)]
    assert math.isnan(history[-1]["d_loss"])
    assert trainer.status == "diverged"


def test_absurd_learning_rates_diverge_as_a_result_not_an_exception():
    cfg = GANConfig.from_flat({**TINY_DCGAN, "lr_d": 1e12, "lr_g": 1e12, "steps": 40, "eval_every": 20,
                               "batchnorm_d": False, "batchnorm_g": False, "g_output": "linear"})
    history = list(Trainer(cfg).run())
    assert history[-1]["status"] == "diverged"
    assert history[-1]["g_steps"] < 40


def test_trainer_uses_the_threads_it_is_given():
    torch.set_num_threads(2)
    Trainer(GANConfig.from_flat({**RING, "threads": 1}))
    assert torch.get_num_threads() == 1


def test_sample_uses_the_fixed_evaluation_noise():
    trainer = Trainer(GANConfig.from_flat(RING))
    a = trainer.sample(10)
    trainer.iteration()  # training consumes its own streams, never the evaluation noise
    trainer.G.load_state_dict(Trainer(GANConfig.from_flat(RING)).G.state_dict())
    assert torch.equal(trainer.sample(10), a)
    assert a.shape == (10, 2)


def test_bf16_autocast_trains_with_finite_losses():
    history = list(Trainer(GANConfig.from_flat({**TINY_DCGAN, "precision": "bf16"})).run())
    assert history[-1]["status"] == "ok"
    assert all(math.isfinite(m["d_loss"]) and math.isfinite(m["g_loss"]) for m in history)


def test_the_papers_fully_connected_model_trains_on_images_with_k_d_steps_per_g_step():
    """The maxout discriminator with dropout and the fully connected generator (arch mlp on mnist5k), tiny."""
    cfg = GANConfig.from_flat({"dataset": "mnist5k", "arch": "mlp", "mlp_hidden": 32, "mlp_hidden_d": 16,
                               "maxout_pieces": 3, "dropout_input": 0.2, "dropout_hidden": 0.5, "k": 2,
                               "batch_size": 8, "steps": 4, "eval_every": 2})
    history = list(Trainer(cfg, device="cpu").run())
    assert [(m["g_steps"], m["d_steps"]) for m in history] == [(2, 4), (4, 8)]
    assert history[-1]["status"] == "ok"
    assert all(math.isfinite(m[k]) for m in history for k in ("d_loss", "g_loss"))
    again = list(Trainer(cfg, device="cpu").run())  # dropout draws from the seeded streams: deterministic
    assert without_time(again) == without_time(history)


# ------------------------------------------------------------- the released codes' switches: packing, simultaneous
@pytest.mark.parametrize("k", [1, 3])
def test_under_packing_d_steps_is_still_k_times_g_steps_and_d_judges_batch_size_packs(k):
    trainer = Trainer(GANConfig.from_flat({**RING, "k": k, "pack": 3, "batch_size": 4}))
    drawn, judged = [], []
    sample, noise = trainer.data.sample, trainer.noise
    trainer.data.sample = lambda n, gen: drawn.append(("data", n)) or sample(n, gen)
    trainer.noise = lambda n: drawn.append(("noise", n)) or noise(n)
    trainer.D.register_forward_hook(lambda mod, inp, out: judged.append(tuple(out.shape)))
    history = list(trainer.run())
    assert [(m["g_steps"], m["d_steps"]) for m in history] == [(4, 4 * k), (8, 8 * k), (12, 12 * k)]
    # every minibatch is batch_size packs of 3 samples; D gives one logit per pack
    assert drawn == ([("data", 12), ("noise", 12)] * k + [("noise", 12)]) * 12
    assert set(judged) == {(4,)}


def test_a_simultaneous_step_takes_both_gradients_at_the_same_weights_from_one_minibatch():
    """By hand with SGD (w <- w - lr * grad): D's gradient of the D loss and G's of the non-saturating G loss, both
    at the weights before the step, from the same real minibatch and the same noise."""
    flat = {**RING, "updates": "simultaneous", "optimizer": "sgd", "lr_d": 0.05, "lr_g": 0.03}
    trainer = Trainer(GANConfig.from_flat(flat))
    twin = Trainer(GANConfig.from_flat(flat))  # the same init and streams
    real = twin.data.sample(32, twin.data_gen)
    z = twin.noise(32)
    d_params, g_params = list(twin.D.parameters()), list(twin.G.parameters())
    fake_logits = twin.D(twin.G(z))
    d_loss = -(torch.log(torch.sigmoid(twin.D(real))).mean() + torch.log(1 - torch.sigmoid(fake_logits)).mean())
    g_loss = -torch.log(torch.sigmoid(fake_logits)).mean()
    d_grads = torch.autograd.grad(d_loss, d_params, retain_graph=True)
    g_grads = torch.autograd.grad(g_loss, g_params)
    expected_d = [p.detach() - 0.05 * g for p, g in zip(d_params, d_grads)]
    expected_g = [p.detach() - 0.03 * g for p, g in zip(g_params, g_grads)]
    trainer.iteration()
    assert (trainer.d_steps, trainer.g_steps) == (1, 1)
    for got, want in zip(list(trainer.D.parameters()) + list(trainer.G.parameters()), expected_d + expected_g):
        torch.testing.assert_close(got.detach(), want, rtol=1e-5, atol=1e-6)
    # alternating instead: G's gradient is taken at D's updated weights, so G ends elsewhere
    alternating = Trainer(GANConfig.from_flat({**flat, "updates": "alternating"}))
    alternating.iteration()
    assert not all(torch.allclose(a, b) for a, b in zip(alternating.G.parameters(), trainer.G.parameters()))


def test_each_iteration_uses_the_schedules_values_for_the_iterations_before_it():
    """Iteration t + 1 runs with schedule(cfg, t): the learning rates divided by lr_decay t times (lr_d at its
    floor lr_min from t = 5 on here) and the momentum t / momentum_ramp of the way to momentum_final."""
    from gan_core.runtime import schedule

    cfg = GANConfig.from_flat(PAPER_TINY)
    trainer = Trainer(cfg)
    seen = []
    step = trainer.iteration

    def watched():
        step()
        seen.append((trainer.opt_d.param_groups[0]["lr"], trainer.opt_g.param_groups[0]["lr"],
                     trainer.opt_d.param_groups[0]["momentum"], trainer.opt_g.param_groups[0]["momentum"]))

    trainer.iteration = watched
    list(trainer.run())
    assert len(seen) == 12
    for t, (lr_d, lr_g, m_d, m_g) in enumerate(seen):
        want_d, want_g, want_m = schedule(cfg, t)
        assert (lr_d, lr_g, m_d, m_g) == (want_d, want_g, want_m, want_m)
        assert lr_g == pytest.approx(0.1 / 1.01 ** t, rel=1e-12)
        assert lr_d == pytest.approx(0.05 / 1.01 ** (t if t < 5 else 4.5), rel=1e-12)
        assert m_d == pytest.approx(0.5 + 0.2 * min(t / 8, 1), rel=1e-12)


def test_the_papers_model_in_its_own_frame_is_evaluated_and_sampled_in_the_evaluators_frame():
    from gan_core.metrics import build_evaluator

    cfg = GANConfig.from_flat({**PAPER_TINY, "eval_samples": 50})
    trainer = Trainer(cfg, evaluator=build_evaluator(cfg, device="cpu"))
    history = list(trainer.run())
    assert history[-1]["status"] == "ok" and math.isfinite(history[-1]["fd"])
    shown = trainer.sample(6)
    assert shown.shape == (6, 1, 32, 32)  # 28 px digits padded as the data are
    assert torch.equal(shown[:, :, :2], torch.full((6, 1, 2, 32), -1.0))  # the padding is the background, -1
    with torch.no_grad():
        trainer.G.eval()
        own = trainer.G(trainer.eval_noise(6))  # [6, 1, 28, 28] in (0, 1)
    torch.testing.assert_close(shown[:, :, 2:-2, 2:-2], own * 2 - 1, rtol=0, atol=1e-6)


def test_sgd_with_momentum_is_torchs_sgd_with_the_configured_momentum():
    trainer = Trainer(GANConfig.from_flat({**RING, "optimizer": "sgd", "momentum": 0.5, "lr_d": 0.1, "lr_g": 0.2}))
    assert [type(o).__name__ for o in (trainer.opt_d, trainer.opt_g)] == ["SGD", "SGD"]
    assert [(o.defaults["lr"], o.defaults["momentum"]) for o in (trainer.opt_d, trainer.opt_g)] == \
        [(0.1, 0.5), (0.2, 0.5)]
    history = list(trainer.run())
    assert history[-1]["status"] == "ok" and history[-1]["d_steps"] == 12


# --------------------------------------------------------------------------------------- stability in the reports
def _ring_evaluator(cfg):
    from gan_core.metrics import build_evaluator

    return build_evaluator(cfg.replace(eval_samples=500), device="cpu")


def test_every_report_carries_the_stability_of_the_reports_so_far():
    from gan_core.metrics import assess_stability

    cfg = GANConfig.from_flat({**RING, "steps": 16})
    reports = list(Trainer(cfg, evaluator=_ring_evaluator(cfg)).run())
    assert [r["g_steps"] for r in reports] == [4, 8, 12, 16]
    for i, r in enumerate(reports):
        by_hand = assess_stability(reports[:i + 1], "reverse_kl", "min")
        assert (r["stability"], r["stability_reason"]) == (by_hand["status"], by_hand["reason"])
        for key in ("steps_to_90pct", "oscillation", "final_best_gap"):
            assert r[key] == pytest.approx(by_hand[key], nan_ok=True)
    assert reports[-1]["stability"] in ("stable", "collapsed", "d_dominates")


def test_a_diverged_report_has_nan_metrics_and_stability_diverged():
    cfg = GANConfig.from_flat(RING)
    trainer = Trainer(cfg, evaluator=_ring_evaluator(cfg))
    _poison_data_from(trainer, 5)
    last = list(trainer.run())[-1]
    assert (last["status"], last["stability"]) == ("diverged", "diverged")
    assert all(math.isnan(last[k]) for k in ("modes_captured", "high_quality_frac", "reverse_kl", "top_share",
                                             "diversity"))
    assert last["stability_reason"].startswith("trainer status 'diverged' at g_steps=8")


def test_a_diverged_report_never_carries_a_finite_quality_metric():
    """What the evaluator measures on a run that blew up is no result even where it is finite (a ring8 generator
    that misses every mode scores reverse_kl = log 8, as a short healthy run does): the report has NaN."""
    cfg = GANConfig.from_flat(RING)
    trainer = Trainer(cfg, evaluator=_ring_evaluator(cfg))
    for _ in range(4):
        trainer.iteration()
    healthy = trainer.report()
    assert math.isfinite(healthy["reverse_kl"]) and healthy["stability"] != "diverged"
    trainer.status = "diverged"
    report = trainer.report()
    assert all(math.isnan(report[k]) for k in trainer.evaluator.metric_keys)
    assert (report["stability"], report["g_steps"]) == ("diverged", 4)


def test_a_resumed_run_reports_the_stability_of_its_whole_history(tmp_path):
    cfg = GANConfig.from_flat({**RING, "steps": 16})
    whole = list(Trainer(cfg, evaluator=_ring_evaluator(cfg)).run())
    first = Trainer(cfg, evaluator=_ring_evaluator(cfg))
    for _ in zip(range(2), first.run()):
        pass  # two reports: g_steps 4 and 8
    first.save(tmp_path / "state.pt")
    resumed = Trainer(cfg, evaluator=_ring_evaluator(cfg))
    resumed.load(tmp_path / "state.pt")
    rest = list(resumed.run())
    assert [r["g_steps"] for r in rest] == [12, 16]
    assert without_time(rest) == without_time(whole[2:])
    assert len(resumed.history) == 4
