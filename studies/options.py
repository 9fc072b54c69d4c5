"""A study's own options, each declared once, and its presets: where a study option lives.

Why: a study keeps its defaults in its ``PRESETS`` ("default", "smoke" for ``--smoke-test``, "full" for
``--full``), and each of its options on the command line overrides one preset key. Written out by hand, every such
option stood in three places tied by name alone (the preset key, an ``add_argument(default=None)`` and a
``preset[...]``), in every study. A ``StudyOption`` says once what the option is: the preset key it sets (its flag
is that key with dashes), how its text is read, one line of help, and whether its value is a GANConfig key that
every trial's base config gets as it is. ``StudyOptions(PRESETS, options)`` checks that every preset holds exactly
the declared keys, and derives from the declarations both the flags (``parser``) and the merge (``choose``: the
chosen preset, a budget the study's design picks, then the options given) and the trials' base config
(``base_config``). A study script lists its presets, its options and its own design, nothing more.

The flags default to None, never to the preset's value: None is how a merge, and a ``--resume`` comparing the
command with the stored one (``studies.resume``), tell an option left out from one given.
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from gan_core.knobs import IMAGE_DATASETS, KNOBS
from studies.cli import StudyParser, make_parser, parse_overrides
from studies.option_types import positive_int

PRESET_NAMES = ("default", "smoke", "full")  # "full" may be left out: then the study has no --full


@dataclass(frozen=True)
class StudyOption:
    """One study option: ``--<key with dashes>`` sets preset key ``key``; ``type`` reads its text (an
    ``argparse.ArgumentTypeError`` is the one-line exit 2); ``help`` may name the default preset's value as
    ``{preset}``; ``config``: the value is the GANConfig key ``key`` of every trial (``StudyOptions.base_config``),
    not something the study's design reads (seeds, lists of levels, a search's size)."""

    key: str
    type: Callable[[str], Any]
    help: str
    choices: tuple[str, ...] | None = None
    config: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    def but(self, **changes: Any) -> "StudyOption":
        """The same option with some fields changed: a study's own wording of a shared option."""
        return dataclasses.replace(self, **changes)


# The options most studies share, worded once.
STEPS = StudyOption("steps", positive_int, "generator steps per trial", config=True)
EVAL_EVERY = StudyOption("eval_every", positive_int, "generator steps between reports", config=True)
SEEDS = StudyOption("seeds", positive_int, "seeds per variant (0..N-1)")


def dataset(choices: Sequence[str], what: str) -> StudyOption:
    """``--dataset`` among ``choices``; ``what`` says what kind of data the study takes."""
    return StudyOption("dataset", str, f"{what} (preset: {{preset}})", choices=tuple(choices), config=True)


class StudyOptions:
    """A study's presets and the options that override their keys: the keys of every preset are exactly the
    declared options' (checked when the study is imported: a preset key without its option, or an option without
    its preset value, would be a default nobody can change or a flag that changes nothing)."""

    def __init__(self, presets: Mapping[str, Mapping[str, Any]], options: Sequence[StudyOption]):
        keys = [o.key for o in options]
        if len(set(keys)) != len(keys):
            raise ValueError(f"study options declared twice: {sorted({k for k in keys if keys.count(k) > 1})}")
        if not {"default", "smoke"} <= set(presets) <= set(PRESET_NAMES):
            raise ValueError(f"presets {sorted(presets)}; allowed: default, smoke and optionally full")
        for name, preset in presets.items():
            if set(preset) != set(keys):
                raise ValueError(f"preset {name!r} holds {sorted(preset)}, the declared options are {sorted(keys)}; "
                                 f"allowed: exactly the declared options' keys")
        not_config = [o.key for o in options if o.config and o.key not in KNOBS]
        if not_config:
            raise ValueError(f"study options {not_config} are declared config keys and are none of GANConfig's")
        self.presets = presets
        self.options = tuple(options)

    def parser(self, study: str, doc: str,
               design: Callable[[argparse._ArgumentGroup], None] | None = None) -> StudyParser:
        """The study's parser: the options every study shares (``cli.make_parser``, described by the first
        paragraph of the study's docstring ``doc``), then the "study" group: every declared option (default None:
        left out), then what ``design`` adds to the group (the options of the study's own design)."""
        parser = make_parser(study, doc.split("\n\n")[0], self.presets)
        group = parser.add_argument_group("study")
        for o in self.options:
            group.add_argument(o.flag, dest=o.key, type=o.type, choices=o.choices, default=None,
                               help=o.help.format(preset=self.presets["default"][o.key]))
        if design is not None:
            design(group)
        return parser

    def preset_name(self, args: argparse.Namespace) -> str:
        """Which preset the flags select: "smoke", "full" or "default"."""
        if args.smoke_test:
            return "smoke"
        if "full" in self.presets and args.full:
            return "full"
        return "default"

    def choose(self, args: argparse.Namespace, budget: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The preset the flags select, with ``budget`` on top (what a choice of the study's design, such as
        mode_collapse's --long, takes instead of the preset's values), and every option the user gave on top of
        both."""
        chosen = dict(self.presets[self.preset_name(args)])
        unknown = sorted(set(budget or {}) - set(chosen))
        if unknown:
            raise ValueError(f"budget keys {unknown} are no declared study option")
        chosen.update(budget or {})
        for key in chosen:
            given = getattr(args, key)
            if given is not None:
                chosen[key] = given
        return chosen

    def base_config(self, args: argparse.Namespace, preset: Mapping[str, Any],
                    fixed: Mapping[str, Any]) -> dict[str, Any]:
        """The study's partial base config, later keys winning: ``fixed`` (what the study's design sets), the
        chosen values of the options declared ``config``, one torch thread per trial CPU (--cpus-per-trial), and
        the user's ``--set`` overrides."""
        return {**fixed, **{o.key: preset[o.key] for o in self.options if o.config},
                "threads": args.cpus_per_trial, **parse_overrides(args.overrides)}


# What k_sweep and lr_search add to their presets (ring8 by default) when --dataset names an image dataset: DCGAN
# widths and evaluation sizes that fit the preset's budget (a laptop, a smoke run, the cluster).
IMAGE_PRESETS: dict[str, dict[str, Any]] = {
    "default": {"ngf": 32, "ndf": 32, "eval_samples": 1000},
    "smoke": {"ngf": 8, "ndf": 8, "batch_size": 16, "eval_samples": 100},
    "full": {"image_size": 64},
}


def image_extras(args: argparse.Namespace, options: StudyOptions, dataset: str) -> dict[str, Any]:
    """The IMAGE_PRESETS entry of the selected preset for an image dataset; nothing for a 2D or 1D target."""
    return dict(IMAGE_PRESETS[options.preset_name(args)]) if dataset in IMAGE_DATASETS else {}


def image_base_config(args: argparse.Namespace, options: StudyOptions, preset: Mapping[str, Any]) -> dict[str, Any]:
    """The partial base config of a study on ring8 by default that also takes image datasets (k_sweep,
    lr_search): ``base_config`` with the image preset for an image dataset, less the keys that do not apply to an
    arch given by --set (such as the DCGAN widths with arch=mlp)."""
    overrides = parse_overrides(args.overrides)
    extras = {key: value for key, value in image_extras(args, options, preset["dataset"]).items()
              if "arch" not in overrides or overrides["arch"] in KNOBS[key].archs}
    return options.base_config(args, preset, extras)
