"""The one configuration object of a GAN run, built strictly from a flat dict.

The flat keys are the vocabulary users write in studies and the column names of every report, so a study
sweeps exactly what it says: an unknown key, a wrong type or an out-of-range value is a ValueError that names
the key, the value and what is allowed -- never a silent default.

Each key is declared once, in ``gan_core.knobs``: its type, its defaults (per dataset and architecture: an MLP
with a linear output for 2D points, an affine generator for gauss1d, no BatchNorm in the MLP and affine
generators unless ``batchnorm_g`` is given), what it allows and the architectures it applies to. A key the user
gives always wins; a key that does not apply to the architecture must keep its default. The rules between keys
are written out here. ``to_flat()`` returns every key with its resolved value.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from gan_core.knobs import (ARCHS, BASE_DEFAULTS, DATASET_ARCHS, DATASET_DEFAULTS, DATASETS,  # noqa: F401
                            DOWNLOADED_DATASETS, GUIDELINE_OFF, GUIDELINES, IMAGE_DATASETS, IMAGE_SIZES, KNOBS,
                            MNIST_FAMILY, POINT_DATASETS)
from gan_core.limits import (MAX_EXACT_FLOAT_INT, MAX_LAYERS, MAX_REPORTS, MAX_SEED, MAX_SIZE,  # noqa: F401
                             MAX_STEPS, MAX_THREADS, SEED_RULE)


def _fields_from_the_knobs(cls: type) -> type:
    """Give ``cls`` one field per declared knob, in KNOBS' order, with its type and default, before ``dataclass``
    reads them: each key is declared once, in ``gan_core.knobs``, and a field list written out here again could only
    drift from it (a key added to one and not the other would go unchecked)."""
    cls.__annotations__ = {key: knob.type for key, knob in KNOBS.items()}
    for key, knob in KNOBS.items():
        setattr(cls, key, knob.default)
    return cls


@dataclass(frozen=True)
@_fields_from_the_knobs
class GANConfig:
    """Every setting of one GAN run. Build it with ``GANConfig.from_flat``; see docs/CONFIGURATION.md. Its fields
    are the keys declared in ``gan_core.knobs`` (what each key means and allows), in their order: ``cfg.k``,
    ``cfg.g_loss``, ..."""

    @classmethod
    def from_flat(cls, d: Mapping[str, Any]) -> "GANConfig":
        """Strict constructor: the only way to build a config from user input."""
        if not isinstance(d, Mapping):
            raise ValueError(f"config must be a mapping of key to value, got {type(d).__name__}")
        unknown = sorted(set(d) - set(KNOBS))
        if unknown:
            raise ValueError(
                f"unknown config key {unknown[0]!r}{_did_you_mean(unknown[0], set(KNOBS))}; "
                f"allowed keys: {', '.join(sorted(KNOBS))}"
            )
        given = {key: knob.coerce(d[key]) for key, knob in KNOBS.items() if key in d}
        dataset = given["dataset"] if "dataset" in given else KNOBS["dataset"].default
        _check_choice("dataset", dataset, DATASETS)
        arch = given["arch"] if "arch" in given else KNOBS["arch"].default_for(dataset)
        values = {key: given[key] if key in given else knob.default_for(dataset, arch) for key, knob in KNOBS.items()}
        cfg = cls(**values)
        cfg._validate()
        return cfg

    def to_flat(self) -> dict[str, Any]:
        """Every key with its resolved value: ``GANConfig.from_flat(cfg.to_flat()) == cfg``."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "GANConfig":
        """A copy with some keys changed, validated like ``from_flat``."""
        return GANConfig.from_flat({**self.to_flat(), **changes})

    @property
    def is_image(self) -> bool:
        return self.dataset in IMAGE_DATASETS

    @property
    def channels(self) -> int:
        """Image channels (1 for the MNIST family, 3 for CIFAR-10); 0 for point data."""
        if not self.is_image:
            return 0
        return 3 if self.dataset == "cifar10" else 1

    @property
    def samples_per_batch(self) -> int:
        """Real (and fake) samples in one minibatch: batch_size packs of ``pack`` samples each."""
        return self.batch_size * self.pack

    @property
    def data_dim(self) -> int:
        """Dimension of one point for point datasets; 0 for images."""
        return {"ring8": 2, "grid25": 2, "gauss1d": 1}.get(self.dataset, 0)

    def _validate(self) -> None:
        for key, knob in KNOBS.items():  # each key on its own, as declared
            value = getattr(self, key)
            if knob.choices:
                _check_choice(key, value, knob.choices)
            for rule, ok in knob.rules:
                _check_range(key, value, rule, ok(value))
        if not self.data_root:
            raise ValueError("config key 'data_root' is empty; allowed: a directory path")
        reports = -(-self.steps // self.eval_every)
        if reports > MAX_REPORTS:
            raise ValueError(f"config keys 'steps' / 'eval_every' = {self.steps} / {self.eval_every} give {reports:,} "
                             f"reports; allowed: at most {MAX_REPORTS:,} reports a run (a larger eval_every)")
        if self.k * self.steps > MAX_STEPS:
            raise ValueError(f"config keys 'k' x 'steps' = {self.k} x {self.steps} = {self.k * self.steps:,} "
                             f"discriminator steps is out of range; allowed: k * steps <= {MAX_STEPS:,}")
        fits = DATASET_ARCHS[self.dataset]
        if self.arch not in fits:
            kind = "image" if self.is_image else "point"
            raise ValueError(f"config key 'arch' = {self.arch!r} does not fit {kind} dataset {self.dataset!r}; "
                             f"allowed: {_either(fits)}")
        self._validate_arch()
        self._validate_algorithm()
        self._validate_pixels()

    def _validate_arch(self) -> None:
        """A key that does not apply to the architecture keeps its default there, and a key that allows fewer
        values with it (``Knob.only``) one of those: it would do nothing, or could not be what it says."""
        for key, knob in KNOBS.items():
            value = getattr(self, key)
            if self.arch not in knob.archs:
                allowed = (knob.default_for(self.dataset, self.arch),)
                why = f" (it applies to arch {_either(knob.archs)})"
            elif self.arch in knob.only:
                allowed, why = knob.only[self.arch], ""
            else:
                continue
            if value in allowed:
                continue
            others = [a for a in DATASET_ARCHS[self.dataset] if a != self.arch and a in knob.archs
                      and (a not in knob.only or value in knob.only[a])]
            raise ValueError(f"config key {key!r} = {value!r} does not fit arch {self.arch!r}{why}; allowed: "
                             f"{_either(allowed)}" + (f", or arch {_either(others)}" if others else ""))

    def _validate_pixels(self) -> None:
        """The image keys of the GAN paper's own MNIST model: its 28 px digits, its [0, 1] pixels, its sigmoid's
        bias from the data. Each is refused where it would do nothing or could not be what it says."""
        native = self.dataset in MNIST_FAMILY and self.arch == "mlp"
        if self.image_size not in (IMAGE_SIZES if native else IMAGE_SIZES[1:]):
            raise ValueError(f"config key 'image_size' = {self.image_size!r} is not allowed for dataset "
                             f"{self.dataset!r} with arch {self.arch!r}; allowed: 32 | 64 (and 28, the digits' own "
                             f"size, for the MNIST family with arch 'mlp')")
        if self.validation_split and self.dataset not in DOWNLOADED_DATASETS:
            raise ValueError(f"config key 'validation_split' = {self.validation_split} does not fit dataset "
                             f"{self.dataset!r}; allowed: 0 (mnist5k has its fixed 4,000 / 1,000 split), or a dataset "
                             f"of {', '.join(DOWNLOADED_DATASETS)}")
        if self.train_images and not self.is_image:
            raise ValueError(f"config key 'train_images' = {self.train_images} does not fit point dataset "
                             f"{self.dataset!r} (sampled, not a fixed set); allowed: 0")
        if self.pixel_range != BASE_DEFAULTS["pixel_range"] and not self.is_image:
            raise ValueError(f"config key 'pixel_range' = {self.pixel_range!r} does not fit point dataset "
                             f"{self.dataset!r}; allowed: {BASE_DEFAULTS['pixel_range']!r}")
        if self.g_bias == "marginals" and not (self.is_image and self.g_output == "sigmoid"
                                               and self.pixel_range == "0..1"):
            raise ValueError(f"config key 'g_bias' = 'marginals' needs an image dataset, arch 'mlp', g_output "
                             f"'sigmoid' and pixel_range '0..1' (the logit of a pixel's mean in [0, 1]); got "
                             f"dataset {self.dataset!r}, arch {self.arch!r}, g_output {self.g_output!r}, "
                             f"pixel_range {self.pixel_range!r}; allowed: 'default', or those four")

    def _validate_schedules(self) -> None:
        """The optimizer schedules of the GAN paper's code: learning rates divided by ``lr_decay`` after every
        iteration down to ``lr_min``; SGD's momentum rising linearly to ``momentum_final`` over ``momentum_ramp``
        iterations. A key that would do nothing is refused, as elsewhere."""
        _check_range("lr_min", self.lr_min, f"0 <= value <= the smaller learning rate {min(self.lr_d, self.lr_g)!r}",
                     0 <= self.lr_min <= min(self.lr_d, self.lr_g))
        if self.lr_min and self.lr_decay == 1:
            raise ValueError(f"config key 'lr_min' = {self.lr_min!r} does nothing without a decay; allowed: 0, or "
                             f"lr_decay > 1")
        if self.momentum_ramp and self.optimizer != "sgd":
            raise ValueError(f"config key 'momentum_ramp' = {self.momentum_ramp} does not fit optimizer "
                             f"{self.optimizer!r}; allowed: 0, or optimizer 'sgd'")
        if not self.momentum_ramp and self.momentum_final != BASE_DEFAULTS["momentum_final"]:
            raise ValueError(f"config key 'momentum_final' = {self.momentum_final!r} does nothing without a ramp; "
                             f"allowed: {BASE_DEFAULTS['momentum_final']!r}, or momentum_ramp >= 1")

    def _validate_algorithm(self) -> None:
        """The keys of one update rule or optimizer must not be set for another, where they would do nothing."""
        if self.updates == "simultaneous" and self.k != 1:
            raise ValueError(f"config key 'k' = {self.k} does not fit updates 'simultaneous' (one minibatch updates "
                             f"D and G once each); allowed: k = 1, or updates 'alternating'")
        self._validate_schedules()
        unused = ("momentum",) if self.optimizer == "adam" else ("beta1", "beta2")
        for key in unused:
            if getattr(self, key) != BASE_DEFAULTS[key]:
                other = "sgd" if self.optimizer == "adam" else "adam"
                raise ValueError(f"config key {key!r} = {getattr(self, key)!r} does not fit optimizer "
                                 f"{self.optimizer!r}; allowed: {BASE_DEFAULTS[key]!r}, or optimizer {other!r}")


def _check_choice(key: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"config key {key!r} = {value!r} is not allowed; allowed: {_either(allowed)}")


def _either(values: Sequence[Any]) -> str:
    return " | ".join(repr(v) for v in values)


def _check_range(key: str, value: Any, rule: str, ok: bool) -> None:
    if not ok:
        raise ValueError(f"config key {key!r} = {value!r} is out of range; allowed: {rule}")


def _did_you_mean(word: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_overrides(items: Sequence[str], option: str = "argument") -> dict[str, Any]:
    """``["k=3", "g_loss=minimax"]`` -> ``{"k": 3, "g_loss": "minimax"}``, values typed by ``parse_cli_value``;
    ValueError on an item without ``=`` or a key given twice (``option`` names the item in the message: the
    command line of ``python -m gan_core.train`` and the studies' ``--set`` both read overrides this way)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"{option} {item!r} is not of the form key=value; allowed: key=value, e.g. k=3")
        if key in out:
            raise ValueError(f"config key {key!r} is given twice; allowed: each key once")
        out[key] = parse_cli_value(text)
    return out


def parse_cli_value(text: str) -> Any:
    """Turn a ``key=value`` command-line value into a Python value: bools, ints, floats, else the string."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text
