"""A population trial's folder read as one result per member, so that every table and test still counts seeds.

A population trial (``studies.trainable.train_population``) trains several seeds of one variant together. Its
``params.json`` lists them under ``members`` (its ``seed`` is the first one's), each report holds every member's
metrics under ``members`` (``"seed_<s>"`` -> that member's metrics, as a solo trial reports them; a member that
stopped, diverged, reports no more) and each checkpoint every member's state (``checkpoint_NNNNNN/seed_<s>/state.pt``,
a plain Trainer checkpoint). Here each member becomes what a solo trial of its seed would have been: its config
with its seed, its own reports (with the report's Ray bookkeeping: iteration, times, node, checkpoint folder) and
its own checkpoints. Its ``trial_id`` is the population's plus ``_seed_<s>``; the column ``population`` names the
Ray trial it shared, and its times are the population's (the members ran together).
"""
from __future__ import annotations

from typing import Any, Mapping

MEMBERS_KEY = "members"  # studies.space's config key and studies.trainable's report key (analysis imports no studies)


def member_name(seed: int) -> str:
    """The name of a member in a report and a checkpoint (``gan_core.population.member_folder``)."""
    return f"seed_{seed}"


def member_seeds(params: Mapping[str, Any]) -> list[int] | None:
    """The seeds of a population trial's config, or None for a solo trial (no ``members`` key)."""
    if MEMBERS_KEY not in params:
        return None
    seeds = params[MEMBERS_KEY]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool)
                                                           for s in seeds):
        return None  # not a list of seeds: read as one trial (its reports then show what it is)
    return seeds


def member_params(params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """A member's config: the population's, with the member's seed and without the member list."""
    out = {k: v for k, v in params.items() if k != MEMBERS_KEY}
    out["seed"] = seed
    return out


def member_rows(rows: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The reports of one member: each report of the population that holds it, its own metrics over the
    population's, and the checkpoint folder of the report narrowed to the member's (``checkpoint_NNNNNN/seed_<s>``)."""
    name = member_name(seed)
    out = []
    for r in rows:
        members = r.get(MEMBERS_KEY)  # a report cut short may lack it: then the member has no report there
        if not isinstance(members, dict) or not isinstance(members.get(name), dict):
            continue
        row = {k: v for k, v in r.items() if k not in (MEMBERS_KEY, "members_reporting")}
        row.update(members[name])
        if isinstance(r.get("checkpoint_dir_name"), str):
            row["checkpoint_dir_name"] = f"{r['checkpoint_dir_name']}/{name}"
        out.append(row)
    return out
