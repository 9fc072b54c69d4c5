"""A study's trial, typed: its variant, its seeds and its config (``StudyTrial``).

A study's design is a list of these, built and validated once before Ray starts (``StudySpec.design``). What Ray
Tune carries of a trial is the flat dict ``tune_config()`` (its params.json: the complete config, plus the variant
and, for a population, its seeds), because the analysis reads that file alone; ``StudyTrial.from_tune`` is the one
place that reads such a dict back. So no other module strips the study's keys out of a config by hand, and a new
study key is added here. This module imports nothing heavy: the progress line and the folder names read it too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

VARIANT_KEY = "variant"
MEMBERS_KEY = "members"  # a population trial's seeds, in its config; its members' metrics, in its reports
STUDY_KEYS = (VARIANT_KEY, MEMBERS_KEY)  # what a trial's Tune config holds besides its config's own keys


@dataclass(frozen=True)
class StudyTrial:
    """One trial: ``config`` (a complete flat GANConfig dict, or the theory check's keys) for ``variant``, trained
    once per seed of ``seeds``. A population trial (``gan_core.population``, ``studies.members``) trains its seeds
    together, each its own result, and may hold one seed only (the last chunk of a variant's seeds); any other trial
    holds exactly one. The config's ``seed`` is the first of ``seeds`` (``studies.space`` builds it so), except in
    the config Tune hands to ``trial_dirname_creator``: a population's ``seed`` is still Tune's placeholder there."""

    variant: str
    seeds: tuple[int, ...]
    config: Mapping[str, Any]
    population: bool = False

    def __post_init__(self) -> None:
        if not self.seeds or (len(self.seeds) > 1 and not self.population):
            raise ValueError(f"trial of variant {self.variant!r} has seeds {list(self.seeds)}; allowed: one seed, or "
                             f"one or more for a population trial")

    def tune_config(self) -> dict[str, Any]:
        """What Tune carries (and params.json holds): the config, the variant, and a population's seeds."""
        out = {**self.config, VARIANT_KEY: self.variant}
        if self.population:
            out[MEMBERS_KEY] = list(self.seeds)
        return out

    @classmethod
    def from_tune(cls, tune_config: Mapping[str, Any]) -> "StudyTrial":
        """The trial of a Tune config (``tune_config()``'s, restored or not); ValueError naming a missing key."""
        for key in (VARIANT_KEY, "seed"):
            if key not in tune_config:
                raise ValueError(f"trial config lacks {key!r}; a study's trial config holds its config, "
                                 f"{VARIANT_KEY!r} and, for a population, {MEMBERS_KEY!r}")
        config = {k: v for k, v in tune_config.items() if k not in STUDY_KEYS}
        if MEMBERS_KEY in tune_config:
            return cls(tune_config[VARIANT_KEY], tuple(tune_config[MEMBERS_KEY]), config, population=True)
        return cls(tune_config[VARIANT_KEY], (config["seed"],), config)

    def label(self) -> str:
        """``variant='x', seed=3`` (a population: ``seeds=[3, 4]``): how a message names the trial."""
        seeds = f"seed={self.seeds[0]!r}" if not self.population else f"seeds={list(self.seeds)}"
        return f"{VARIANT_KEY}={self.variant!r}, {seeds}"
