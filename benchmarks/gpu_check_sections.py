"""gpu_check's sections: each measures its figures as ratios against a reference measured in the same run, in
alternating rounds, and adds them to the run's rows (``gpu_check_run.Run``); what each measures is in
gpu_check.py's docstring.
"""
from __future__ import annotations

import math
import time

import _common
from gpu_check_run import Run, median, release, trial_config
from gpu_check_trials import ProcessTrials, RayTrials


def section_trainer(run: Run) -> None:
    """A real Trainer on the device for a few hundred steps against the same Trainer on the CPU, 1 thread."""
    import torch

    from gan_core.trainer import Trainer

    s, dev = run.sizes, run.device
    for name, flat, cpu_steps in s.trainer:
        steps = s.trainer_steps
        cfg = trial_config(flat)
        ours = Trainer(cfg.replace(steps=steps * (run.rounds + 1), eval_every=steps), device=dev)
        ref = Trainer(cfg.replace(steps=cpu_steps * (run.rounds + 1), eval_every=cpu_steps), device="cpu")
        reports_ours, reports_ref = ours.run(), ref.run()

        def report_time(reports, device):
            _common.sync(device)
            start = time.perf_counter()
            metrics = next(reports)  # `steps` iterations of Trainer.run and its report
            _common.sync(device)
            return time.perf_counter() - start, metrics

        metrics = [report_time(reports_ours, dev)[1]]  # warm-up round: first calls, allocations, cuDNN choices
        report_time(reports_ref, "cpu")
        rates, ref_rates, ratios = [], [], []
        for _ in range(run.rounds):
            if not run.more(f"trainer round ({name})"):
                break
            t, m = run.budget.timed(f"trainer round ({name})", report_time, reports_ours, dev)
            t_ref, _ = report_time(reports_ref, "cpu")
            metrics.append(m)
            rates.append(steps / t)
            ref_rates.append(cpu_steps / t_ref)
            ratios.append(rates[-1] / ref_rates[-1])
            run.say(f"trainer: {name}: {rates[-1]:.1f} steps/s on {dev}, {ref_rates[-1]:.1f} on the CPU (1 thread)")
        params = [*ours.G.parameters(), *ours.D.parameters()]
        checks = {f"weights on {dev}": all(p.device.type == dev for p in params),
                  "weights finite": all(bool(torch.isfinite(p).all()) for p in params),
                  "losses finite": all(math.isfinite(m["d_loss"]) and math.isfinite(m["g_loss"]) for m in metrics),
                  "steps counted": ours.g_steps == steps * len(metrics)}
        run.row("trainer", name, f"steps/s on {dev} / on the CPU (1 thread)", ratios, median(rates),
                median(ref_rates), "steps/s", "the same Trainer on the CPU, 1 thread", cfg.to_flat(),
                checks=checks, note=f"{ours.g_steps} steps on {dev}")
        del ours, ref, reports_ours, reports_ref
        release(dev)


def section_precision(run: Run) -> None:
    """Step time of the same Trainer in bf16 (autocast) over fp32, alternating which goes first."""
    import torch
    from step import time_iterations  # benchmarks/step.py: seconds per iteration, synchronised

    from gan_core.trainer import Trainer

    s, dev = run.sizes, run.device
    if dev == "cuda" and not torch.cuda.is_bf16_supported():
        run.say("precision: SKIPPED: this GPU does not support bf16")
        run.sections[-1]["note"] = "this GPU does not support bf16"
        return
    for name, flat in s.precision:
        cfg = trial_config(flat)
        fp32 = Trainer(cfg.replace(precision="fp32"), device=dev)  # (the default, auto, may be bf16 here)
        bf16 = Trainer(cfg.replace(precision="bf16"), device=dev)
        time_iterations(fp32.iteration, s.precision_warmup, torch.device(dev))
        time_iterations(bf16.iteration, s.precision_warmup, torch.device(dev))
        t32s, t16s, ratios = [], [], []
        for r in range(run.rounds):
            if not run.more(f"precision round ({name})"):
                break
            pair = [fp32, bf16] if r % 2 == 0 else [bf16, fp32]
            times = run.budget.timed(f"precision round ({name})", lambda: {
                id(t): time_iterations(t.iteration, s.precision_iters, torch.device(dev)) for t in pair})
            t32s.append(1000 * times[id(fp32)])
            t16s.append(1000 * times[id(bf16)])
            ratios.append(t16s[-1] / t32s[-1])
        params = [*bf16.G.parameters(), *bf16.D.parameters(), *fp32.G.parameters(), *fp32.D.parameters()]
        checks = {"bf16 autocast on": bf16._autocast and not fp32._autocast,
                  "weights finite": all(bool(torch.isfinite(p).all()) for p in params)}
        run.row("precision", name, "step time bf16 / fp32", ratios, median(t16s), median(t32s), "ms/step",
                "the same Trainer in fp32", cfg.replace(precision="bf16").to_flat(), checks=checks)
        del fp32, bf16
        release(dev)


def section_fractional(run: Run) -> None:
    """k concurrent trials sharing the device (1 / k of a GPU each) against one trial alone: aggregate steps/s."""
    s, dev = run.sizes, run.device
    k = s.fraction_trials
    name, flat = s.fraction_model
    cfg = trial_config(flat)
    timeout_s = max(60.0, run.budget.seconds)
    trials = RayTrials(k, timeout_s) if run.workers == "ray" else ProcessTrials(k, timeout_s)
    command = {"flat": cfg.to_flat(), "device": dev, "steps": s.fraction_steps, "warmup": s.fraction_warmup}
    alone_rates, many_rates, ratios, results = [], [], [], []
    try:
        for _ in range(run.rounds):
            if not run.more("fractional round"):
                break

            def one_round():
                alone = trials.run(1, **command)
                many = trials.run(k, **command)
                return alone, many

            alone, many = run.budget.timed("fractional round", one_round)
            results += alone + many
            alone_rates.append(alone[0]["steps"] / (alone[0]["end"] - alone[0]["start"]))
            span = max(r["end"] for r in many) - min(r["start"] for r in many)
            many_rates.append(sum(r["steps"] for r in many) / span)
            ratios.append(many_rates[-1] / alone_rates[-1])
            run.say(f"fractional: {k} trials {many_rates[-1]:.1f} steps/s together, 1 alone {alone_rates[-1]:.1f}")
    finally:
        trials.close()
    checks = {f"weights on {dev}": all(r["on_device"] for r in results),
              "weights finite": all(r["finite"] for r in results),
              f"{k} distinct processes": all(len({r["pid"] for r in results[i + 1:i + 1 + k]}) == k
                                             for i in range(0, len(results), k + 1))} if results else {}
    fraction = f"{1 / k:g} GPU" if dev == "cuda" else f"1/{k} of the machine (CPU test path)"
    run.row("fractional", name, f"aggregate steps/s of {k} trials at {fraction} / 1 trial alone", ratios,
            median(many_rates), median(alone_rates), "steps/s", f"1 trial alone ({run.workers})", cfg.to_flat(),
            n=k, checks=checks, note=f"trials run as {run.workers}")


def section_populations(run: Run) -> None:
    """Populations of N seeds against solo Trainers one after another: member-steps/s (``_common``'s
    ``population_rate`` and ``solo_rate``, which ``population.py`` runs too)."""
    s, dev = run.sizes, run.device
    for name, flat in s.populations:
        cfg = trial_config(flat)
        solos: list[float] = []
        pops: dict[int, list[float]] = {n: [] for n in s.population_ns}
        ratios: dict[int, list[float]] = {n: [] for n in s.population_ns}
        for _ in range(run.rounds):
            if not run.more(f"solo round ({name})"):
                break
            solo = run.budget.timed(f"solo round ({name})", _common.solo_rate, cfg, s.solo_trainers,
                                    s.solo_iters, dev, 1, s.population_warmup)
            solos.append(solo)
            for n in s.population_ns:
                if not run.more(f"population of {n} ({name})"):
                    break
                pop = run.budget.timed(f"population of {n} ({name})", _common.population_rate, cfg, n,
                                       s.population_iters, dev, s.population_warmup)
                pops[n].append(pop)
                ratios[n].append(pop / solo)
                release(dev)
            run.say(f"populations: {name}: solo {solo:.1f} member-steps/s; population / solo "
                    + ", ".join(f"N = {n}: {ratios[n][-1]:.2f}" for n in s.population_ns if pops[n]))
            if run.cut:
                break
        for n in s.population_ns:
            run.row("populations", name, "member-steps/s of a population / of solo Trainers one after another",
                    ratios[n], median(pops[n]), median(solos), "member-steps/s",
                    f"{s.solo_trainers} solo Trainers one after another", cfg.to_flat(), n=n)


RUNNERS = {"trainer": section_trainer, "precision": section_precision, "fractional": section_fractional,
           "populations": section_populations}
