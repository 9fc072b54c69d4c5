"""The typed trial: what Tune carries of it, read back exactly; the keys it needs refused in one line when missing."""
from __future__ import annotations

import pytest

from studies.members import populations
from studies.trial import MEMBERS_KEY, STUDY_KEYS, VARIANT_KEY, StudyTrial


def test_a_solo_trial_round_trips_through_its_tune_config():
    trial = StudyTrial("baseline", (3,), {"k": 2, "seed": 3})
    assert trial.tune_config() == {"k": 2, "seed": 3, "variant": "baseline"}
    assert StudyTrial.from_tune(trial.tune_config()) == trial
    assert (trial.population, trial.label()) == (False, "variant='baseline', seed=3")


def test_a_population_round_trips_with_its_seeds_even_a_single_one():
    trial = StudyTrial("gan", (3, 4, 5), {"k": 2, "seed": 3}, population=True)
    assert trial.tune_config() == {"k": 2, "seed": 3, "variant": "gan", "members": [3, 4, 5]}
    assert StudyTrial.from_tune(trial.tune_config()) == trial
    assert trial.label() == "variant='gan', seeds=[3, 4, 5]"
    last_chunk = StudyTrial("gan", (6,), {"k": 2, "seed": 6}, population=True)  # a variant's last chunk
    assert last_chunk.tune_config()["members"] == [6]
    assert StudyTrial.from_tune(last_chunk.tune_config()).population is True


def test_the_study_keys_are_the_trials_own():
    assert STUDY_KEYS == (VARIANT_KEY, MEMBERS_KEY) == ("variant", "members")
    assert StudyTrial.from_tune({"k": 1, "seed": 0, "variant": "a"}).config == {"k": 1, "seed": 0}


@pytest.mark.parametrize("config, missing", [({"k": 2, "seed": 1}, "variant"), ({"k": 2, "variant": "a"}, "seed")])
def test_a_tune_config_without_a_study_key_is_refused(config, missing):
    with pytest.raises(ValueError) as e:
        StudyTrial.from_tune(config)
    assert str(e.value) == (f"trial config lacks {missing!r}; a study's trial config holds its config, 'variant' "
                            f"and, for a population, 'members'")


def test_inconsistent_trials_are_refused():
    with pytest.raises(ValueError) as e:
        StudyTrial("a", (1, 2), {"seed": 1})
    assert str(e.value) == "trial of variant 'a' has seeds [1, 2]; allowed: one seed, or one or more for a population trial"
    with pytest.raises(ValueError) as e:
        StudyTrial("a", (), {"seed": 1})
    assert str(e.value) == "trial of variant 'a' has seeds []; allowed: one seed, or one or more for a population trial"


def test_populations_chunk_each_variants_seeds_in_order():
    solo = [StudyTrial(v, (s,), {"k": k, "seed": s}) for v, k in (("a", 1), ("b", 5)) for s in range(5)]
    pops = populations(solo, 3)
    assert [(t.variant, t.seeds, t.config, t.population) for t in pops] == [
        ("a", (0, 1, 2), {"k": 1, "seed": 0}, True), ("a", (3, 4), {"k": 1, "seed": 3}, True),
        ("b", (0, 1, 2), {"k": 5, "seed": 0}, True), ("b", (3, 4), {"k": 5, "seed": 3}, True)]
    assert populations(solo, 1) == solo
    one_each = [StudyTrial(v, (0,), {"seed": 0}) for v in "ab"]
    assert populations(one_each, 4) == one_each  # one seed a variant: no population (as the space has none)
