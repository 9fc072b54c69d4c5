"""benchmarks/step.py keeps working: quick mode compares ours with the reference loop, 1 and all threads."""
import math
import os

from tests.benchmarks._load import run_quick


def test_quick_mode_prints_a_ratio_per_setting():
    code, lines, rows = run_quick("step")
    assert code == 0
    assert [(r["device"], r["threads"]) for r in rows] == [("cpu", 1), ("cpu", os.cpu_count())]
    for r in rows:
        assert (r["rounds"], r["iters_per_round"], r["ngf"], r["batch_size"]) == (2, 2, 8, 64)
        assert r["ratio_min"] <= r["ratio_median"] <= r["ratio_max"]
        assert r["same_work_ratio_min"] <= r["same_work_ratio_median"] <= r["same_work_ratio_max"]
        assert math.isfinite(r["ratio_median"]) and r["ratio_median"] > 0
    assert sum(line.startswith("step ") for line in lines) == len(rows)


def test_reference_loop_trains_like_pytorch_examples():
    """The reference really is a DCGAN step: its D ends in a sigmoid and both optimizers move their nets."""
    import sys

    import torch

    from tests.benchmarks._load import BENCHMARKS
    sys.path.insert(0, str(BENCHMARKS))
    from step import ReferenceLoop

    from gan_core.config import GANConfig

    ref = ReferenceLoop(GANConfig.from_flat({"ngf": 8, "ndf": 8, "batch_size": 16}), torch.device("cpu"))
    assert isinstance(ref.netD[-1], torch.nn.Sigmoid)
    g0 = [p.detach().clone() for p in ref.netG.parameters()]
    d0 = [p.detach().clone() for p in ref.netD.parameters()]
    ref.iteration()
    assert not all(torch.equal(a, b) for a, b in zip(g0, ref.netG.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d0, ref.netD.parameters()))


def test_same_work_variant_counts_one_d_and_one_g_step_per_iteration():
    import sys

    from tests.benchmarks._load import BENCHMARKS
    sys.path.insert(0, str(BENCHMARKS))
    from step import SameWorkTrainer

    from gan_core.config import GANConfig

    trainer = SameWorkTrainer(GANConfig.from_flat({"ngf": 8, "ndf": 8, "batch_size": 8}))
    g0 = [p.detach().clone() for p in trainer.G.parameters()]
    for _ in range(3):
        trainer.iteration()
    assert (trainer.g_steps, trainer.d_steps) == (3, 3)
    assert not all(a.equal(b) for a, b in zip(g0, trainer.G.parameters()))
