"""How many seeds a trial hosts: the auto rule per device and data, the studies that never host more than one,
and the chunks of seeds."""
from __future__ import annotations

import pytest

from gan_core.config import GANConfig
from studies.cli import StudyInputError
from studies.members import AUTO, AUTO_CPU_MAX, members_per_trial, seed_chunks
from studies.mode_collapse import variants

RING = GANConfig.from_flat({"dataset": "ring8", "steps": 10}).to_flat()
MNIST = GANConfig.from_flat({"dataset": "mnist5k", "steps": 10}).to_flat()
PACGAN = GANConfig.from_flat({"dataset": "ring8", "steps": 10, **variants([2], factorial=False)["gan"]}).to_flat()
VEEGAN = GANConfig.from_flat({"dataset": "ring8", "steps": 10, **variants([2], factorial=False)["veegan"]}).to_flat()
DROPOUT = GANConfig.from_flat({"dataset": "mnist5k", "arch": "mlp", "steps": 10, "dropout_hidden": 0.5}).to_flat()


def _configs(flat, variants: int, seeds: int) -> list[dict]:
    return [{**flat, "seed": s} for _ in range(variants) for s in range(seeds)]


def _auto(flat, variants, seeds, gpus=0.0, workers=2, searched=False, gan=True, choice=AUTO):
    return members_per_trial(choice, _configs(flat, variants, seeds), seeds, searched, gan, gpus, workers, "s")


def test_auto_on_a_cpu_gives_every_worker_two_trials_for_point_mlps():
    assert _auto(RING, variants=3, seeds=5) == 3          # 2 chunks a variant: 6 trials on 2 workers
    assert _auto(RING, variants=8, seeds=3) == 3          # 8 variants already fill 2 workers twice
    assert _auto(VEEGAN, variants=3, seeds=5) == 3        # VEEGAN's 2D networks: 150 MFLOP an iteration
    assert _auto(RING, variants=1, seeds=10, workers=2) == 3  # 4 chunks: 3, 3, 2, 2
    assert _auto(RING, variants=1, seeds=40, workers=1) == AUTO_CPU_MAX
    assert _auto(RING, variants=2, seeds=5, workers=16) == 1  # more workers than seeds: one seed a trial


def test_auto_keeps_one_seed_a_trial_where_populations_are_slower_or_unsound():
    assert _auto(MNIST, variants=3, seeds=5) == 1                     # a DCGAN on a CPU
    assert _auto(PACGAN, variants=3, seeds=5) == 1                    # PacGAN's 2D networks: 772 MFLOP
    assert _auto(PACGAN, variants=3, seeds=5, gpus=0.25) == 5
    mixed = _configs(RING, 1, 5) + _configs(PACGAN, 1, 5)             # one large variant decides for the study
    assert members_per_trial(AUTO, mixed, 5, False, True, 0.0, 2, "s") == 1
    assert _auto(RING, variants=3, seeds=1) == 1                      # nothing to stack
    assert _auto(RING, variants=3, seeds=5, searched=True) == 1       # Optuna / ASHA act on whole trials
    assert _auto(RING, variants=3, seeds=5, gan=False) == 1           # the theory check
    assert _auto(DROPOUT, variants=1, seeds=5, gpus=1.0) == 1         # dropout: one global random stream


def test_auto_on_a_gpu_stacks_every_seed_of_a_variant():
    assert _auto(MNIST, variants=8, seeds=6, gpus=0.25) == 6
    assert _auto(RING, variants=2, seeds=200, gpus=1.0) == 128


def test_an_explicit_count_is_cut_to_the_seeds_and_refused_where_it_cannot_be():
    assert _auto(MNIST, variants=2, seeds=5, choice=4) == 4
    assert _auto(MNIST, variants=2, seeds=5, choice=9) == 5
    assert _auto(RING, variants=2, seeds=5, choice=1) == 1
    assert _auto(RING, variants=2, seeds=5, choice=1, searched=True) == 1
    with pytest.raises(StudyInputError, match=r"^--members-per-trial 2: study 's' runs one seed per trial \(its "
                                              r"searcher or scheduler chooses and stops trials one by one\); "
                                              r"allowed: --members-per-trial 1 or auto$"):
        _auto(RING, variants=2, seeds=5, choice=2, searched=True)
    with pytest.raises(StudyInputError, match=r"\(its trials are not GAN runs\)"):
        _auto(RING, variants=2, seeds=5, choice=2, gan=False)
    with pytest.raises(StudyInputError, match=r"\(its configs use dropout, which draws from torch's one global"):
        _auto(DROPOUT, variants=1, seeds=5, choice=3)


@pytest.mark.parametrize("n, members, sizes", [(5, 3, [3, 2]), (10, 3, [3, 3, 2, 2]), (10, 8, [5, 5]),
                                               (4, 4, [4]), (3, 1, [1, 1, 1]), (7, 10, [7])])
def test_seed_chunks_are_consecutive_and_even(n, members, sizes):
    chunks = seed_chunks(range(100, 100 + n), members)
    assert [len(c) for c in chunks] == sizes
    assert [s for c in chunks for s in c] == list(range(100, 100 + n))
