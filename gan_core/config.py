"""The one configuration object of a GAN run, built strictly from a flat dict.

The flat keys are the vocabulary users write in studies and the column names of every report, so a study
sweeps exactly what it says: an unknown key, a wrong type or an out-of-range value is a ValueError that names
the key, the value and what is allowed -- never a silent default.

Keys left out take the defaults in ``BASE_DEFAULTS``, overlaid by the per-dataset defaults in
``DATASET_DEFAULTS`` (an MLP with a linear output for 2D points, an affine generator for gauss1d); the MLP and
affine generators have no BatchNorm unless ``batchnorm_g`` is given. A key the user gives always wins.
``to_flat()`` returns every key with its resolved value.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from gan_core.limits import (MAX_EXACT_FLOAT_INT, MAX_LAYERS, MAX_REPORTS, MAX_SEED, MAX_SIZE,  # noqa: F401
                             MAX_STEPS, MAX_THREADS, SEED_RULE)

IMAGE_DATASETS = ("mnist5k", "mnist", "fashion_mnist", "cifar10")
DOWNLOADED_DATASETS = IMAGE_DATASETS[1:]  # torchvision's, with their own train / test splits
POINT_DATASETS = ("ring8", "grid25", "gauss1d")
DATASETS = IMAGE_DATASETS + POINT_DATASETS
ARCHS = ("dcgan", "mlp", "affine")
G_LOSSES = ("non_saturating", "minimax")
G_ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh")
G_OUTPUTS = ("tanh", "sigmoid", "linear")
D_ACTIVATIONS = ("leaky_relu", "relu")
IMAGE_SIZES = (28, 32, 64)  # 28: the MNIST family's own size, for arch mlp (the GAN paper's 784 inputs)
MNIST_FAMILY = ("mnist5k", "mnist", "fashion_mnist")
PIXEL_RANGES = ("-1..1", "0..1")
G_BIASES = ("default", "marginals")
NOISES = ("gaussian", "uniform")
UPDATES = ("alternating", "simultaneous")
OPTIMIZERS = ("adam", "sgd")
INITS = ("auto", "normal_0.02", "uniform")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "bf16")

# The DCGAN guideline switches, with the value that follows the guideline. A study's baseline sets all of them
# to these values; switching one off means setting it to the value in GUIDELINE_OFF, which changes that one thing
# only: g_output off is the unbounded linear output (not sigmoid, whose [0, 1] range cannot reach the data's -1,
# so it would test a range mismatch as well as the nonlinearity).
GUIDELINES: dict[str, Any] = {
    "strided_conv": True,
    "batchnorm_g": True,
    "batchnorm_d": True,
    "fc_hidden": False,
    "g_activation": "relu",
    "g_output": "tanh",
    "d_activation": "leaky_relu",
}
GUIDELINE_OFF: dict[str, Any] = {
    "strided_conv": False,
    "batchnorm_g": False,
    "batchnorm_d": False,
    "fc_hidden": True,
    "g_activation": "leaky_relu",
    "g_output": "linear",
    "d_activation": "relu",
}


@dataclass(frozen=True)
class GANConfig:
    """Every setting of one GAN run. Build it with ``GANConfig.from_flat``; see docs/CONFIGURATION.md."""

    # data
    dataset: str = "mnist5k"
    data_root: str = "~/.cache/gan_study/data"
    image_size: int = 32
    pixel_range: str = "-1..1"  # images' pixel values in training; 0..1: the GAN paper's MNIST (gan_core.data)
    validation_split: int = 0  # the training split's last N images held out as validation (the paper: MNIST, 10,000)
    # architecture
    arch: str = "dcgan"
    nz: int = 100
    noise: str = "gaussian"    # z ~ N(0, 1), or uniform: U(-sqrt 3, sqrt 3), unit variance (the GAN paper's code)
    ngf: int = 64
    ndf: int = 64
    mlp_hidden: int = 128
    mlp_layers: int = 2
    mlp_hidden_d: int = 0      # D's hidden width in arch mlp; 0: mlp_hidden (the paper's MNIST model: G 1200, D 240)
    mlp_layers_d: int = 0      # D's hidden layers in arch mlp; 0: mlp_layers (PacGAN's 2D model: G 4, D 3)
    maxout_pieces: int = 0     # arch mlp: D's hidden layers are maxout units of this many pieces; 0: d_activation
    dropout_input: float = 0.0   # arch mlp: dropout rate on D's input (the paper's MNIST model: 0.2)
    dropout_hidden: float = 0.0  # arch mlp: dropout rate after each of D's hidden layers (the paper: 0.5)
    init: str = "auto"         # auto: each arch's own (DCGAN N(0, 0.02); MLP variance-preserving); normal_0.02;
    #                            uniform (the GAN paper's MNIST model: G U(-0.05, 0.05), D U(-0.005, 0.005))
    strided_conv: bool = True
    batchnorm_g: bool = True
    batchnorm_d: bool = True
    fc_hidden: bool = False
    g_activation: str = "relu"
    g_output: str = "tanh"
    g_bias: str = "default"    # G's output bias at init; marginals: logit of each pixel's training mean (the
    #                            paper's sigmoid output, pylearn2's init_sigmoid_bias_from_marginals)
    d_activation: str = "leaky_relu"
    # algorithm
    k: int = 1
    g_loss: str = "non_saturating"
    updates: str = "alternating"  # Algorithm 1; simultaneous: D and G from one minibatch in one step (k = 1)
    pack: int = 1              # PacGAN: D judges packs of this many samples; batch_size counts packs
    batch_size: int = 64
    optimizer: str = "adam"
    momentum: float = 0.0      # optimizer sgd only
    momentum_final: float = 0.0  # with momentum_ramp: momentum rises linearly to this (the paper's code: 0.7)
    momentum_ramp: int = 0     # iterations over which momentum rises to momentum_final; 0: constant momentum
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    lr_decay: float = 1.0      # both learning rates divided by this after every iteration (the paper's: 1.000004)
    lr_min: float = 0.0        # ... but never below this (the paper's: 1e-6)
    beta1: float = 0.5
    beta2: float = 0.999
    steps: int = 2000
    # evaluation
    eval_every: int = 250
    eval_samples: int = 2000
    # execution
    seed: int = 0
    threads: int = 1
    device: str = "auto"
    precision: str = "fp32"

    @classmethod
    def from_flat(cls, d: Mapping[str, Any]) -> "GANConfig":
        """Strict constructor: the only way to build a config from user input."""
        if not isinstance(d, Mapping):
            raise ValueError(f"config must be a mapping of key to value, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(
                f"unknown config key {unknown[0]!r}{_did_you_mean(unknown[0], known)}; "
                f"allowed keys: {', '.join(sorted(known))}"
            )
        values = dict(BASE_DEFAULTS)
        if "dataset" in d:
            _check_choice("dataset", d["dataset"], DATASETS)
            values.update(DATASET_DEFAULTS[d["dataset"]])
        values.update(d)
        if values["arch"] != "dcgan" and "batchnorm_g" not in d:
            values["batchnorm_g"] = False  # the fully connected G of Goodfellow et al. has none (PacGAN's has)
        for f in dataclasses.fields(cls):
            values[f.name] = _coerce(f.name, values[f.name], _FIELD_TYPES[f.name])
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
        for key, allowed in (("dataset", DATASETS), ("arch", ARCHS),
                             ("g_loss", G_LOSSES), ("g_activation", G_ACTIVATIONS), ("g_output", G_OUTPUTS),
                             ("d_activation", D_ACTIVATIONS), ("updates", UPDATES), ("optimizer", OPTIMIZERS),
                             ("init", INITS), ("device", DEVICES), ("precision", PRECISIONS),
                             ("pixel_range", PIXEL_RANGES), ("g_bias", G_BIASES), ("noise", NOISES)):
            _check_choice(key, getattr(self, key), allowed)
        for key in ("nz", "ngf", "ndf", "mlp_hidden", "mlp_layers", "k", "pack", "batch_size", "steps", "eval_every",
                    "threads"):
            _check_range(key, getattr(self, key), ">= 1", getattr(self, key) >= 1)
        for key in ("steps", "eval_every", "k"):
            v = getattr(self, key)
            _check_range(key, v, f"an integer from 1 to {MAX_STEPS:,}", v <= MAX_STEPS)
        reports = -(-self.steps // self.eval_every)
        if reports > MAX_REPORTS:
            raise ValueError(f"config keys 'steps' / 'eval_every' = {self.steps} / {self.eval_every} give {reports:,} "
                             f"reports; allowed: at most {MAX_REPORTS:,} reports a run (a larger eval_every)")
        if self.k * self.steps > MAX_STEPS:
            raise ValueError(f"config keys 'k' x 'steps' = {self.k} x {self.steps} = {self.k * self.steps:,} "
                             f"discriminator steps is out of range; allowed: k * steps <= {MAX_STEPS:,}")
        for key, most in (("nz", MAX_SIZE), ("ngf", MAX_SIZE), ("ndf", MAX_SIZE), ("mlp_hidden", MAX_SIZE),
                          ("mlp_hidden_d", MAX_SIZE), ("batch_size", MAX_SIZE), ("pack", MAX_SIZE),
                          ("maxout_pieces", MAX_SIZE), ("eval_samples", MAX_SIZE), ("mlp_layers", MAX_LAYERS),
                          ("mlp_layers_d", MAX_LAYERS), ("threads", MAX_THREADS)):
            v = getattr(self, key)
            _check_range(key, v, f"at most {most:,}", v <= most)
        _check_range("mlp_hidden_d", self.mlp_hidden_d, "0 (= mlp_hidden) or an integer >= 1", self.mlp_hidden_d >= 0)
        _check_range("mlp_layers_d", self.mlp_layers_d, "0 (= mlp_layers) or an integer >= 1", self.mlp_layers_d >= 0)
        _check_range("maxout_pieces", self.maxout_pieces, "0 (no maxout) or an integer >= 2",
                     self.maxout_pieces == 0 or self.maxout_pieces >= 2)
        for key in ("dropout_input", "dropout_hidden"):
            v = getattr(self, key)
            _check_range(key, v, "0 <= value < 1", 0 <= v < 1)
        _check_range("eval_samples", self.eval_samples, ">= 10", self.eval_samples >= 10)
        _check_range("seed", self.seed, SEED_RULE, 0 <= self.seed <= MAX_SEED)
        for key in ("lr_d", "lr_g"):
            v = getattr(self, key)
            _check_range(key, v, "a finite number > 0", math.isfinite(v) and v > 0)
        for key in ("beta1", "beta2", "momentum"):
            v = getattr(self, key)
            _check_range(key, v, "0 <= value < 1", 0 <= v < 1)
        self._validate_algorithm()
        self._validate_pixels()
        if not self.data_root:
            raise ValueError("config key 'data_root' is empty; allowed: a directory path")
        if self.is_image and self.arch not in ("dcgan", "mlp"):
            raise ValueError(f"config key 'arch' = {self.arch!r} does not fit image dataset {self.dataset!r}; "
                             f"allowed for images: 'dcgan' or 'mlp'")
        if self.arch == "dcgan":  # D's MLP keys change only the MLP discriminator: in a DCGAN they would do nothing
            for key in ("mlp_hidden_d", "mlp_layers_d", "maxout_pieces", "dropout_input", "dropout_hidden"):
                if getattr(self, key) != BASE_DEFAULTS[key]:
                    raise ValueError(f"config key {key!r} = {getattr(self, key)!r} does not fit arch 'dcgan'; "
                                     f"allowed: {BASE_DEFAULTS[key]!r}, or arch 'mlp'")
        if self.arch == "dcgan" and self.init == "uniform":
            raise ValueError("config key 'init' = 'uniform' does not fit arch 'dcgan' (its init is N(0, 0.02)); "
                             "allowed: 'auto' or 'normal_0.02', or arch 'mlp'")
        if not self.is_image and self.arch == "dcgan":
            raise ValueError(f"config key 'arch' = 'dcgan' does not fit point dataset {self.dataset!r}; "
                             f"allowed: 'mlp' (or 'affine' for gauss1d)")
        if self.arch == "affine" and self.dataset != "gauss1d":
            raise ValueError(f"config key 'arch' = 'affine' does not fit dataset {self.dataset!r}; "
                             f"allowed: 'affine' only with dataset 'gauss1d'")
        if self.arch == "affine" and self.nz != 1:
            raise ValueError(f"config key 'nz' = {self.nz} does not fit arch 'affine'; allowed: 1")
        if self.arch == "affine" and self.batchnorm_g:
            raise ValueError("config key 'batchnorm_g' = True does not fit arch 'affine' (it has no hidden layer); "
                             "allowed: False")

    def _validate_pixels(self) -> None:
        """The image keys of the GAN paper's own MNIST model: its 28 px digits, its [0, 1] pixels, its sigmoid's
        bias from the data. Each is refused where it would do nothing or could not be what it says."""
        native = self.dataset in MNIST_FAMILY and self.arch == "mlp"
        if self.image_size not in (IMAGE_SIZES if native else IMAGE_SIZES[1:]):
            raise ValueError(f"config key 'image_size' = {self.image_size!r} is not allowed for dataset "
                             f"{self.dataset!r} with arch {self.arch!r}; allowed: 32 | 64 (and 28, the digits' own "
                             f"size, for the MNIST family with arch 'mlp')")
        _check_range("validation_split", self.validation_split, "an integer >= 0", self.validation_split >= 0)
        if self.validation_split and self.dataset not in DOWNLOADED_DATASETS:
            raise ValueError(f"config key 'validation_split' = {self.validation_split} does not fit dataset "
                             f"{self.dataset!r}; allowed: 0 (mnist5k has its fixed 4,000 / 1,000 split), or a dataset "
                             f"of {', '.join(DOWNLOADED_DATASETS)}")
        if self.pixel_range != BASE_DEFAULTS["pixel_range"] and not self.is_image:
            raise ValueError(f"config key 'pixel_range' = {self.pixel_range!r} does not fit point dataset "
                             f"{self.dataset!r}; allowed: {BASE_DEFAULTS['pixel_range']!r}")
        if self.g_bias == "marginals" and not (self.is_image and self.arch == "mlp" and self.g_output == "sigmoid"
                                               and self.pixel_range == "0..1"):
            raise ValueError(f"config key 'g_bias' = 'marginals' needs an image dataset, arch 'mlp', g_output "
                             f"'sigmoid' and pixel_range '0..1' (the logit of a pixel's mean in [0, 1]); got "
                             f"dataset {self.dataset!r}, arch {self.arch!r}, g_output {self.g_output!r}, "
                             f"pixel_range {self.pixel_range!r}; allowed: 'default', or those four")

    def _validate_schedules(self) -> None:
        """The optimizer schedules of the GAN paper's code: learning rates divided by ``lr_decay`` after every
        iteration down to ``lr_min``; SGD's momentum rising linearly to ``momentum_final`` over ``momentum_ramp``
        iterations. A key that would do nothing is refused, as elsewhere."""
        _check_range("lr_decay", self.lr_decay, "a finite number >= 1 (1: no decay)",
                     math.isfinite(self.lr_decay) and self.lr_decay >= 1)
        _check_range("lr_min", self.lr_min, f"0 <= value <= the smaller learning rate {min(self.lr_d, self.lr_g)!r}",
                     0 <= self.lr_min <= min(self.lr_d, self.lr_g))
        if self.lr_min and self.lr_decay == 1:
            raise ValueError(f"config key 'lr_min' = {self.lr_min!r} does nothing without a decay; allowed: 0, or "
                             f"lr_decay > 1")
        _check_range("momentum_ramp", self.momentum_ramp, f"an integer from 0 (constant momentum) to {MAX_STEPS:,}",
                     0 <= self.momentum_ramp <= MAX_STEPS)
        _check_range("momentum_final", self.momentum_final, "0 <= value < 1", 0 <= self.momentum_final < 1)
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


BASE_DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(GANConfig)}

# Defaults that depend on the dataset: what a sensible run of that kind of data needs.
_POINTS = {"arch": "mlp", "nz": 2, "g_output": "linear", "batch_size": 256, "lr_d": 1e-3, "lr_g": 1e-3,
           "steps": 2000, "eval_every": 250, "eval_samples": 2500}
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "mnist5k": {},
    "mnist": {},
    "fashion_mnist": {},
    "cifar10": {},
    "ring8": dict(_POINTS),
    "grid25": dict(_POINTS),
    "gauss1d": {**_POINTS, "arch": "affine", "nz": 1, "eval_samples": 10000},
}

_FIELD_TYPES: dict[str, type] = {
    f.name: {"str": str, "int": int, "float": float, "bool": bool}[f.type]
    for f in dataclasses.fields(GANConfig)
}


def _coerce(key: str, value: Any, want: type) -> Any:
    """Accept a value of the declared type; ints for floats and integral floats for ints (up to 2**53, where a float
    still holds every whole number exactly: 1e99 is no count anyone meant); nothing else."""
    if want is bool:
        if isinstance(value, bool):
            return value
    elif want is int:
        if isinstance(value, bool):
            pass
        elif isinstance(value, int):
            return int(value)
        elif isinstance(value, float) and value.is_integer():
            if abs(value) > MAX_EXACT_FLOAT_INT:
                raise ValueError(f"config key {key!r} = {value!r} is a float too large to be an exact integer; "
                                 f"allowed: an int, or a whole-number float of at most 2**53")
            return int(value)
    elif want is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif want is str:
        if isinstance(value, str):
            return value
    # numpy scalars from search spaces (np.int64, np.float64, np.bool_) are fine too
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return _coerce(key, item(), want)
    raise ValueError(f"config key {key!r} = {value!r} has type {type(value).__name__}; allowed: {want.__name__}")


def _check_choice(key: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"config key {key!r} = {value!r} is not allowed; allowed: "
                         + " | ".join(repr(a) for a in allowed))


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
