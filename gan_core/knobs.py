"""Every key of a GAN run's configuration, declared once, as a ``Knob``: its type, its default (and the defaults
that differ by dataset or architecture), the values it allows, the architectures it applies to, its DCGAN
guideline and "off" value where it is one, whether a population can run it, and one line of help.

Everything else is derived from ``KNOBS``: ``GANConfig``'s defaults, types and per-key checks
(``gan_core.config``; the rules between keys stay there, written out), ``GUIDELINES`` / ``GUIDELINE_OFF`` (and so
the ablation's variants), population eligibility (``population_refusals``: ``gan_core.population``,
``studies.members``) and the configuration table, docs/CONFIGURATION_TABLE.md (``gan_core.knob_table``):

    python -m gan_core.knob_table > docs/CONFIGURATION_TABLE.md

A key applies to the architectures in ``archs``; with any other it must keep its default there (a config lists
every key, ``GANConfig.to_flat``), and any other value is refused in one line rather than silently unused.
A new switch is one ``Knob`` here plus the layer code that reads it. Pure Python: no torch, no Ray.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from gan_core.limits import MAX_EXACT_FLOAT_INT, MAX_LAYERS, MAX_SEED, MAX_SIZE, MAX_STEPS, MAX_THREADS, SEED_RULE

IMAGE_DATASETS = ("mnist5k", "mnist", "fashion_mnist", "cifar10")
DOWNLOADED_DATASETS = IMAGE_DATASETS[1:]  # torchvision's, with their own train / test splits
POINT_DATASETS = ("ring8", "grid25", "gauss1d")
DATASETS = IMAGE_DATASETS + POINT_DATASETS
MNIST_FAMILY = ("mnist5k", "mnist", "fashion_mnist")
ARCHS = ("dcgan", "mlp", "affine")
# The architectures each dataset can be trained with: the DCGAN needs images, the affine G the 1D Gaussian.
DATASET_ARCHS: dict[str, tuple[str, ...]] = {
    **{d: ("dcgan", "mlp") for d in IMAGE_DATASETS}, "ring8": ("mlp",), "grid25": ("mlp",),
    "gauss1d": ("affine", "mlp"),
}
IMAGE_SIZES = (28, 32, 64)  # 28: the MNIST family's own size, for arch mlp (the GAN paper's 784 inputs)

Rule = tuple[str, Callable[[Any], bool]]  # (what is allowed, in words; the test of a value)
AT_LEAST_1: Rule = (">= 1", lambda v: v >= 1)
UNIT: Rule = ("0 <= value < 1", lambda v: 0 <= v < 1)
STEP_COUNT: Rule = (f"an integer from 1 to {MAX_STEPS:,}", lambda v: v <= MAX_STEPS)
LEARNING_RATE: Rule = ("a finite number > 0", lambda v: math.isfinite(v) and v > 0)


def at_most(most: int) -> Rule:
    return (f"at most {most:,}", lambda v: v <= most)


@dataclass(frozen=True)
class Knob:
    """One config key. ``choices`` or ``rules`` say what ``from_flat`` allows of it on its own (``allowed``: the
    rest, in words, for the table, where gan_core.config checks it against other keys); ``by_dataset`` /
    ``by_arch``: the defaults that differ from ``default`` (an arch's over a dataset's); ``archs``: where it
    applies (elsewhere it keeps its default); ``only``: the values allowed with an arch, where fewer are;
    ``guideline`` / ``off``: a DCGAN guideline's values; ``population`` False: a population runs only its default
    (``solo_why`` says why, as the words after "its configs use")."""

    key: str
    type: type
    default: Any
    help: str
    choices: tuple = ()
    rules: tuple[Rule, ...] = ()
    allowed: str = ""
    by_dataset: Mapping[str, Any] = field(default_factory=dict)
    by_arch: Mapping[str, Any] = field(default_factory=dict)
    archs: tuple[str, ...] = ARCHS
    only: Mapping[str, tuple] = field(default_factory=dict)
    guideline: Any = None
    off: Any = None
    population: bool = True
    solo_why: str = ""

    def __post_init__(self) -> None:
        where = f"knob {self.key!r}"
        values = [self.default, *self.by_dataset.values(), *self.by_arch.values(), *self.choices,
                  *(v for vs in self.only.values() for v in vs),
                  *(v for v in (self.guideline, self.off) if v is not None)]
        for value in values:
            if type(value) is not self.type:
                raise TypeError(f"{where}: {value!r} is no {self.type.__name__}")
        known = set(self.by_dataset) <= set(DATASETS) and set(self.archs) | set(self.by_arch) <= set(ARCHS)
        if not known or not set(self.only) <= set(self.archs):
            raise ValueError(f"{where}: a dataset or arch that does not exist, or an arch it does not apply to")
        if (self.guideline is None) != (self.off is None) or (self.guideline is not None
                                                               and self.guideline == self.off):
            raise ValueError(f"{where}: a guideline needs both its value and a different off value")
        if self.population == (self.solo_why != ""):
            raise ValueError(f"{where}: solo_why says why a population cannot run it, and only then")

    def coerce(self, value: Any) -> Any:
        """``value`` as this key's type (``coerce``), or a ValueError."""
        return coerce(self.key, value, self.type)

    def default_for(self, dataset: str, arch: str | None = None) -> Any:
        """The default with this dataset and architecture (None: the dataset's own)."""
        if arch in self.by_arch:
            return self.by_arch[arch]
        if dataset in self.by_dataset:
            return self.by_dataset[dataset]
        return self.default


def coerce(key: str, value: Any, want: type) -> Any:
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
        return coerce(key, item(), want)
    raise ValueError(f"config key {key!r} = {value!r} has type {type(value).__name__}; allowed: {want.__name__}")


_POINTS_2D = ("ring8", "grid25")
_POINTS = POINT_DATASETS
_MLP_D = ("mlp", "affine")  # the architectures whose discriminator is the MLP one


def _each(datasets: tuple[str, ...], value: Any) -> dict[str, Any]:
    return {d: value for d in datasets}


KNOBS: dict[str, Knob] = {k.key: k for k in (
    # data
    Knob("dataset", str, "mnist5k", "the training data: MNIST-family or CIFAR-10 images, or a 2D / 1D mixture",
         choices=DATASETS),
    Knob("data_root", str, "~/.cache/gan_study/data", "the folder of the torchvision datasets",
         allowed="a directory path"),
    Knob("image_size", int, 32, "the images' side in pixels", allowed="32 | 64; 28 (the digits as they are, 784 "
         "inputs) for the MNIST family with arch 'mlp'"),
    Knob("pixel_range", str, "-1..1", "the images' pixel values in training (0..1: the GAN paper's MNIST); "
         "evaluators always see [-1, 1]", choices=("-1..1", "0..1"), allowed="'0..1' for images only"),
    Knob("validation_split", int, 0, "the training split's last V images held out as validation, neither trained "
         "on nor scored; the first 1,000 choose the Parzen width (the GAN paper's MNIST protocol: V = 10,000)",
         rules=(("an integer >= 0", lambda v: v >= 0),),
         allowed=f"other than 0 only with {', '.join(DOWNLOADED_DATASETS)}"),
    Knob("train_images", int, 0, "train on the training split's first N images only (0: all of them); the rest "
         "are neither trained on nor scored, and the scoring classifier is unchanged: how much data a model needs",
         rules=(("an integer >= 0", lambda v: v >= 0),),
         allowed="other than 0 only for image datasets, and fewer than the training split holds"),
    # architecture
    Knob("arch", str, "dcgan", "the networks: DCGAN, fully connected (Goodfellow et al. 2014), or the affine "
         "1D generator x = a z + b", choices=ARCHS, by_dataset={**_each(_POINTS_2D, "mlp"), "gauss1d": "affine"},
         allowed="images: 'dcgan' | 'mlp'; ring8, grid25: 'mlp'; gauss1d: 'affine' | 'mlp'"),
    Knob("nz", int, 100, "the noise dimension", rules=(AT_LEAST_1, at_most(MAX_SIZE)),
         by_dataset={**_each(_POINTS_2D, 2), "gauss1d": 1}, only={"affine": (1,)}),
    Knob("noise", str, "gaussian", "z ~ N(0, 1), or U(-sqrt 3, sqrt 3): unit variance, the GAN paper's code",
         choices=("gaussian", "uniform")),
    Knob("ngf", int, 64, "the DCGAN generator's width", rules=(AT_LEAST_1, at_most(MAX_SIZE)), archs=("dcgan",)),
    Knob("ndf", int, 64, "the DCGAN discriminator's width", rules=(AT_LEAST_1, at_most(MAX_SIZE)),
         archs=("dcgan",)),
    Knob("mlp_hidden", int, 128, "the MLP generator's hidden width (and D's, unless mlp_hidden_d)",
         rules=(AT_LEAST_1, at_most(MAX_SIZE)), archs=_MLP_D),
    Knob("mlp_layers", int, 2, "the MLP generator's hidden layers (and D's, unless mlp_layers_d)",
         rules=(AT_LEAST_1, at_most(MAX_LAYERS)), archs=_MLP_D),
    Knob("mlp_hidden_d", int, 0, "the MLP discriminator's hidden width (the GAN paper's MNIST model: G 1200, D 240)",
         rules=(at_most(MAX_SIZE), ("0 (= mlp_hidden) or an integer >= 1", lambda v: v >= 0)), archs=_MLP_D),
    Knob("mlp_layers_d", int, 0, "the MLP discriminator's hidden layers (PacGAN's 2D model: G 4, D 3)",
         rules=(at_most(MAX_LAYERS), ("0 (= mlp_layers) or an integer >= 1", lambda v: v >= 0)), archs=_MLP_D),
    Knob("maxout_pieces", int, 0, "D's hidden layers are maxout units of this many pieces (0: Linear + "
         "d_activation)", rules=(at_most(MAX_SIZE), ("0 (no maxout) or an integer >= 2", lambda v: v == 0 or v >= 2)),
         archs=_MLP_D),
    Knob("dropout_input", float, 0.0, "the dropout rate on D's input (the GAN paper's MNIST model: 0.2)",
         rules=(UNIT,), archs=_MLP_D, population=False,
         solo_why="dropout, which draws from torch's one global random stream"),
    Knob("dropout_hidden", float, 0.0, "the dropout rate after each of D's hidden layers (the GAN paper: 0.5)",
         rules=(UNIT,), archs=_MLP_D, population=False,
         solo_why="dropout, which draws from torch's one global random stream"),
    Knob("init", str, "auto", "the initial weights: auto (DCGAN N(0, 0.02); MLPs He / LeCun normal), N(0, 0.02) "
         "everywhere, or uniform (the GAN paper's: G +-0.05, D +-0.005)", choices=("auto", "normal_0.02", "uniform"),
         only={"dcgan": ("auto", "normal_0.02")}),
    Knob("strided_conv", bool, True, "strided convolutions for every 2x resampling (off: stride-1 conv + max-pool "
         "in D, nearest upsampling + conv in G)", archs=("dcgan",), guideline=True, off=False),
    Knob("batchnorm_g", bool, True, "BatchNorm in G's hidden layers (no bias there); the MLP G: PacGAN's",
         by_arch={"mlp": False, "affine": False}, archs=("dcgan", "mlp"), guideline=True, off=False),
    Knob("batchnorm_d", bool, True, "BatchNorm in D's hidden layers", archs=("dcgan",), guideline=True, off=False),
    Knob("fc_hidden", bool, False, "a 512-unit fully connected hidden layer at G's input and before D's output",
         archs=("dcgan",), guideline=False, off=True),
    Knob("g_activation", str, "relu", "G's hidden nonlinearity", choices=("relu", "leaky_relu", "elu", "tanh"),
         archs=("dcgan", "mlp"), guideline="relu", off="leaky_relu"),
    Knob("g_output", str, "tanh", "G's output nonlinearity (linear: unbounded, the guideline's off; sigmoid's "
         "[0, 1] cannot reach the data's -1)", choices=("tanh", "sigmoid", "linear"),
         by_dataset=_each(_POINTS, "linear"), archs=("dcgan", "mlp"), guideline="tanh", off="linear"),
    Knob("g_bias", str, "default", "G's output bias at init; marginals: the logit of each pixel's training mean "
         "(the GAN paper's)", choices=("default", "marginals"), archs=("mlp",),
         allowed="'marginals' needs an image dataset, g_output 'sigmoid' and pixel_range '0..1'"),
    Knob("d_activation", str, "leaky_relu", "D's hidden nonlinearity (leaky: slope 0.2)",
         choices=("leaky_relu", "relu"), guideline="leaky_relu", off="relu"),
    Knob("spectral_norm_d", bool, False, "spectral normalisation of every weight layer of D (Miyato et al. 2018: "
         "each weight divided by its largest singular value, one power iteration per forward)", population=False,
         solo_why="spectral normalisation, whose power iteration rewrites D's buffers at every forward"),
    # algorithm
    Knob("k", int, 1, "discriminator updates per generator update", rules=(AT_LEAST_1, STEP_COUNT),
         allowed="k * steps <= 1,000,000,000; 1 with updates 'simultaneous'"),
    Knob("g_loss", str, "non_saturating", "the generator's loss", choices=("non_saturating", "minimax")),
    Knob("updates", str, "alternating", "Algorithm 1, or simultaneous: D and G from one minibatch in one step "
         "(both papers' released code)", choices=("alternating", "simultaneous")),
    Knob("pack", int, 1, "PacGAN's m: D judges packs of m samples, all real or all fake; batch_size counts packs",
         rules=(AT_LEAST_1, at_most(MAX_SIZE))),
    Knob("batch_size", int, 64, "the minibatch (in packs)", rules=(AT_LEAST_1, at_most(MAX_SIZE)),
         by_dataset=_each(_POINTS, 256)),
    Knob("optimizer", str, "adam", "the optimizer of both networks", choices=("adam", "sgd")),
    Knob("momentum", float, 0.0, "SGD's momentum", rules=(UNIT,), allowed="optimizer 'sgd' only"),
    Knob("momentum_final", float, 0.0, "with momentum_ramp: the momentum it rises to linearly (the paper's code: "
         "0.7)", rules=(UNIT,), allowed="needs momentum_ramp >= 1"),
    Knob("momentum_ramp", int, 0, "the iterations over which SGD's momentum rises to momentum_final; 0: constant",
         rules=(("an integer from 0 (constant momentum) to 1,000,000,000", lambda v: 0 <= v <= MAX_STEPS),),
         allowed="optimizer 'sgd' only"),
    Knob("lr_d", float, 2e-4, "D's learning rate", rules=(LEARNING_RATE,), by_dataset=_each(_POINTS, 1e-3)),
    Knob("lr_g", float, 2e-4, "G's learning rate", rules=(LEARNING_RATE,), by_dataset=_each(_POINTS, 1e-3)),
    Knob("lr_decay", float, 1.0, "both learning rates are divided by this after every iteration (the paper's: "
         "1.000004)", rules=(("a finite number >= 1 (1: no decay)", lambda v: math.isfinite(v) and v >= 1),)),
    Knob("lr_min", float, 0.0, "the floor of the decayed learning rates (the paper's: 1e-6)",
         allowed="0 <= value <= the smaller learning rate; needs lr_decay > 1"),
    Knob("beta1", float, 0.5, "Adam's beta1", rules=(UNIT,), allowed="optimizer 'adam' only"),
    Knob("beta2", float, 0.999, "Adam's beta2", rules=(UNIT,), allowed="optimizer 'adam' only"),
    Knob("steps", int, 2000, "generator updates", rules=(AT_LEAST_1, STEP_COUNT)),
    # evaluation
    Knob("eval_every", int, 250, "generator updates between reports", rules=(AT_LEAST_1, STEP_COUNT),
         allowed="at most 10,000 reports a run (steps / eval_every)"),
    Knob("eval_samples", int, 2000, "samples an evaluation draws (images: capped at the held-out size)",
         rules=(at_most(MAX_SIZE), (">= 10", lambda v: v >= 10)),
         by_dataset={**_each(_POINTS_2D, 2500), "gauss1d": 10000}),
    # execution
    Knob("seed", int, 0, "the run's seed: weights, data order and noise",
         rules=((SEED_RULE, lambda v: 0 <= v <= MAX_SEED),)),
    Knob("threads", int, 1, "torch's CPU threads", rules=(AT_LEAST_1, at_most(MAX_THREADS))),
    Knob("device", str, "auto", "where to train (auto: CUDA if torch sees one)", choices=("auto", "cpu", "cuda")),
    Knob("precision", str, "auto", "fp32, bf16 autocast, or auto: bf16 for a DCGAN on a GPU that computes bf16 "
         "natively, else fp32 (gan_core.runtime.resolve_precision says why not on a CPU)",
         choices=("fp32", "bf16", "auto")),
)}

BASE_DEFAULTS: dict[str, Any] = {k.key: k.default for k in KNOBS.values()}
# The defaults a dataset changes: what a sensible run of that kind of data needs.
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    d: {k.key: k.by_dataset[d] for k in KNOBS.values() if d in k.by_dataset} for d in DATASETS
}
# The DCGAN guideline switches, with the value that follows the guideline (every study's baseline) and the one that
# turns it off, changing that one thing only: g_output off is the unbounded linear output, not sigmoid, whose
# [0, 1] range cannot reach the data's -1 (it would test a range mismatch as well as the nonlinearity).
GUIDELINES: dict[str, Any] = {k.key: k.guideline for k in KNOBS.values() if k.guideline is not None}
GUIDELINE_OFF: dict[str, Any] = {k.key: k.off for k in KNOBS.values() if k.guideline is not None}


def population_refusals(flat: Mapping[str, Any]) -> list[tuple[Knob, Any, Any]]:
    """(knob, value, its default) for each key of a complete flat config that a population cannot run: those with
    ``population`` False that are not at their default."""
    defaults = {k.key: k.default_for(flat["dataset"], flat["arch"]) for k in KNOBS.values() if not k.population}
    return [(KNOBS[key], flat[key], default) for key, default in defaults.items() if flat[key] != default]
