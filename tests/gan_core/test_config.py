"""GANConfig: strict construction from a flat dict, documented defaults, exact round trip."""
import numpy as np
import pytest

from gan_core.config import (BASE_DEFAULTS, DATASET_DEFAULTS, GUIDELINE_OFF, GUIDELINES, MAX_SEED, MAX_STEPS,
                             GANConfig, parse_cli_value, parse_overrides)


def test_defaults_are_the_documented_ones():
    cfg = GANConfig.from_flat({})
    assert cfg.to_flat() == BASE_DEFAULTS
    assert (cfg.dataset, cfg.arch, cfg.k, cfg.g_loss, cfg.image_size) == ("mnist5k", "dcgan", 1, "non_saturating", 32)
    # every guideline switch defaults to following the guideline
    assert {key: getattr(cfg, key) for key in GUIDELINES} == GUIDELINES


def test_dataset_defaults_overlay_and_user_keys_win():
    cfg = GANConfig.from_flat({"dataset": "ring8"})
    assert (cfg.arch, cfg.nz, cfg.g_output, cfg.lr_d) == ("mlp", 2, "linear", 1e-3)
    cfg = GANConfig.from_flat({"dataset": "ring8", "nz": 5, "lr_d": 3e-4})
    assert (cfg.nz, cfg.lr_d) == (5, 3e-4)
    assert GANConfig.from_flat({"dataset": "gauss1d"}).arch == "affine"
    assert set(DATASET_DEFAULTS) == {"mnist5k", "mnist", "fashion_mnist", "cifar10", "ring8", "grid25", "gauss1d"}


def test_round_trip_is_exact():
    cfg = GANConfig.from_flat({"dataset": "cifar10", "k": 3, "g_loss": "minimax", "batchnorm_d": False})
    assert GANConfig.from_flat(cfg.to_flat()) == cfg
    assert cfg.replace(k=5).k == 5


def test_guideline_off_values_differ_from_guidelines_and_are_valid():
    assert set(GUIDELINE_OFF) == set(GUIDELINES)
    for key, off in GUIDELINE_OFF.items():
        assert off != GUIDELINES[key]
        assert getattr(GANConfig.from_flat({key: off}), key) == off


@pytest.mark.parametrize("bad, key", [
    ({"kk": 1}, "kk"),
    ({"learning_rate": 1e-3}, "learning_rate"),
    ({"k": "3"}, "k"),
    ({"k": 2.5}, "k"),
    ({"k": True}, "k"),
    ({"batchnorm_d": 1}, "batchnorm_d"),
    ({"lr_d": "fast"}, "lr_d"),
    ({"dataset": 3}, "dataset"),
    ({"k": 0}, "k"),
    ({"lr_d": 0.0}, "lr_d"),
    ({"lr_g": -1e-4}, "lr_g"),
    ({"lr_g": float("nan")}, "lr_g"),
    ({"beta1": 1.0}, "beta1"),
    ({"beta2": -0.1}, "beta2"),
    ({"batch_size": 0}, "batch_size"),
    ({"image_size": 28}, "image_size"),
    ({"dataset": "imagenet"}, "dataset"),
    ({"g_loss": "wasserstein"}, "g_loss"),
    ({"arch": "resnet"}, "arch"),
    ({"g_output": "relu"}, "g_output"),
    ({"d_activation": "tanh"}, "d_activation"),
    ({"steps": 0}, "steps"),
    ({"eval_every": -5}, "eval_every"),
    ({"seed": -1}, "seed"),
    ({"threads": 0}, "threads"),
    ({"device": "tpu"}, "device"),
    ({"dataset": "ring8", "arch": "dcgan"}, "arch"),
    ({"dataset": "mnist5k", "arch": "affine"}, "arch"),
    ({"dataset": "ring8", "arch": "affine"}, "arch"),
    ({"dataset": "ring8", "mlp_hidden_d": -1}, "mlp_hidden_d"),
    ({"dataset": "ring8", "mlp_hidden_d": 2.5}, "mlp_hidden_d"),
    ({"dataset": "ring8", "maxout_pieces": 1}, "maxout_pieces"),
    ({"dataset": "ring8", "maxout_pieces": -2}, "maxout_pieces"),
    ({"dataset": "ring8", "maxout_pieces": "5"}, "maxout_pieces"),
    ({"dataset": "ring8", "dropout_input": 1.0}, "dropout_input"),
    ({"dataset": "ring8", "dropout_input": -0.1}, "dropout_input"),
    ({"dataset": "ring8", "dropout_hidden": float("nan")}, "dropout_hidden"),
    ({"dataset": "ring8", "dropout_hidden": "half"}, "dropout_hidden"),
    ({"dataset": "mnist5k", "maxout_pieces": 5}, "maxout_pieces"),     # arch dcgan: no MLP discriminator
    ({"dataset": "mnist5k", "dropout_hidden": 0.5}, "dropout_hidden"),
    ({"dataset": "mnist5k", "mlp_hidden_d": 240}, "mlp_hidden_d"),
    ({"dataset": "ring8", "mlp_layers_d": -1}, "mlp_layers_d"),
    ({"dataset": "mnist5k", "mlp_layers_d": 3}, "mlp_layers_d"),      # arch dcgan: no MLP discriminator
    ({"pack": 0}, "pack"),
    ({"pack": 1.5}, "pack"),
    ({"pack": "2"}, "pack"),
    ({"updates": "parallel"}, "updates"),
    ({"updates": True}, "updates"),
    ({"updates": "simultaneous", "k": 2}, "k"),                      # one joint step: k is 1
    ({"optimizer": "rmsprop"}, "optimizer"),
    ({"optimizer": "sgd", "momentum": 1.0}, "momentum"),
    ({"optimizer": "sgd", "momentum": -0.5}, "momentum"),
    ({"optimizer": "sgd", "momentum": "high"}, "momentum"),
    ({"momentum": 0.5}, "momentum"),                                  # Adam has no momentum key
    ({"optimizer": "sgd", "beta1": 0.9}, "beta1"),                    # SGD has no betas
    ({"optimizer": "sgd", "beta2": 0.99}, "beta2"),
    ({"init": "xavier"}, "init"),
    ({"init": 0.02}, "init"),
    ({"dataset": "mnist5k", "init": "uniform"}, "init"),               # the DCGAN keeps its N(0, 0.02)
    ({"dataset": "gauss1d", "batchnorm_g": True}, "batchnorm_g"),     # the affine G has no hidden layer
    # the GAN paper's MNIST model: 28 px, [0, 1] pixels, the sigmoid's bias from the marginals, its schedules
    ({"dataset": "cifar10", "arch": "mlp", "image_size": 28}, "image_size"),  # only the 28 px MNIST family
    ({"pixel_range": "0..255"}, "pixel_range"),
    ({"dataset": "ring8", "pixel_range": "0..1"}, "pixel_range"),      # points have no pixels
    ({"g_bias": "data"}, "g_bias"),
    ({"arch": "mlp", "g_bias": "marginals"}, "g_bias"),                # tanh output, [-1, 1] pixels
    ({"arch": "mlp", "g_bias": "marginals", "g_output": "sigmoid"}, "g_bias"),  # pixels still in [-1, 1]
    ({"g_bias": "marginals", "g_output": "sigmoid", "pixel_range": "0..1"}, "g_bias"),  # arch dcgan
    ({"noise": "normal"}, "noise"),
    ({"lr_decay": 0.9}, "lr_decay"),                                   # a decay never raises the rate
    ({"lr_decay": float("inf")}, "lr_decay"),
    ({"lr_decay": 1.1, "lr_min": -1e-6}, "lr_min"),
    ({"lr_decay": 1.1, "lr_min": 1e-3}, "lr_min"),                     # above lr_d = lr_g = 2e-4
    ({"lr_min": 1e-6}, "lr_min"),                                      # no decay: it would do nothing
    ({"optimizer": "sgd", "momentum_ramp": -1}, "momentum_ramp"),
    ({"optimizer": "sgd", "momentum_ramp": 10, "momentum_final": 1.0}, "momentum_final"),
    ({"momentum_ramp": 10}, "momentum_ramp"),                           # Adam has no momentum
    ({"optimizer": "sgd", "momentum_final": 0.7}, "momentum_final"),   # no ramp: it would do nothing
    ({"dataset": "mnist", "validation_split": -1}, "validation_split"),
    ({"validation_split": 100}, "validation_split"),                    # mnist5k has its own fixed split
    ({"dataset": "ring8", "validation_split": 100}, "validation_split"),  # sampled, not a fixed set
    ({"train_images": -1}, "train_images"),
    ({"dataset": "grid25", "train_images": 100}, "train_images"),       # sampled, not a fixed set
])
def test_bad_values_raise_naming_the_key(bad, key):
    with pytest.raises(ValueError) as err:
        GANConfig.from_flat(bad)
    message = str(err.value)
    assert f"'{key}'" in message
    assert "allowed" in message
    assert "\n" not in message


def test_the_papers_mnist_model_is_a_valid_config():
    cfg = GANConfig.from_flat({"arch": "mlp", "image_size": 28, "pixel_range": "0..1", "g_output": "sigmoid",
                               "g_bias": "marginals", "noise": "uniform", "optimizer": "sgd", "momentum": 0.5,
                               "momentum_final": 0.7, "momentum_ramp": 124_500, "lr_d": 0.05, "lr_g": 0.1,
                               "lr_decay": 1.000004, "lr_min": 1e-6})
    assert (cfg.image_size, cfg.pixel_range, cfg.g_bias, cfg.noise) == (28, "0..1", "marginals", "uniform")
    assert GANConfig.from_flat(cfg.to_flat()) == cfg
    assert (BASE_DEFAULTS["pixel_range"], BASE_DEFAULTS["noise"], BASE_DEFAULTS["lr_decay"]) == ("-1..1", "gaussian",
                                                                                                 1.0)


def test_a_seed_beyond_what_torchs_generators_keep_is_refused_in_one_line():
    assert GANConfig.from_flat({"seed": MAX_SEED}).seed == MAX_SEED == 4294967
    for bad in (MAX_SEED + 1, 2**70, -1):
        with pytest.raises(ValueError) as e:
            GANConfig.from_flat({"seed": bad})
        assert str(e.value) == (f"config key 'seed' = {bad} is out of range; allowed: an integer from 0 to 4294967 "
                                f"(each random stream is seeded with seed * 1000 + 1..4, and torch's CPU generator "
                                f"keeps only 32 bits of a seed)")


def test_an_integer_key_takes_a_whole_float_only_up_to_2_to_the_53():
    assert GANConfig.from_flat(parse_overrides(["steps=2000.0"])).steps == 2000
    assert GANConfig.from_flat({"steps": float(2**29), "eval_every": float(2**29)}).steps == 2**29  # exact
    with pytest.raises(ValueError, match=r"^config key 'nz' = 9007199254740992 is out of range; allowed: at most "):
        GANConfig.from_flat({"nz": float(2**53)})  # a whole float is an int, and then judged as one
    for key, bad in (("steps", 1e99), ("nz", float(2**53 + 2))):  # 2**53 + 2: the next float
        with pytest.raises(ValueError) as e:
            GANConfig.from_flat({key: bad})
        assert str(e.value) == (f"config key {key!r} = {bad!r} is a float too large to be an exact integer; allowed: "
                                f"an int, or a whole-number float of at most 2**53")


def test_steps_reports_and_discriminator_steps_are_bounded_by_max_steps():
    assert MAX_STEPS == 10**9
    cfg = GANConfig.from_flat({"steps": MAX_STEPS, "eval_every": MAX_STEPS})
    assert (cfg.steps, cfg.eval_every) == (MAX_STEPS, MAX_STEPS)
    assert GANConfig.from_flat({"k": 4, "steps": MAX_STEPS // 4, "eval_every": MAX_STEPS // 4}).k == 4
    for key in ("steps", "eval_every", "k"):
        with pytest.raises(ValueError) as e:
            GANConfig.from_flat({key: MAX_STEPS + 1})
        assert str(e.value) == (f"config key {key!r} = 1000000001 is out of range; allowed: an integer from 1 to "
                                f"1,000,000,000")
    with pytest.raises(ValueError) as e:
        GANConfig.from_flat({"k": 4, "steps": MAX_STEPS // 4 + 1, "eval_every": MAX_STEPS // 4 + 1})
    assert str(e.value) == ("config keys 'k' x 'steps' = 4 x 250000001 = 1,000,000,004 discriminator steps is out of "
                            "range; allowed: k * steps <= 1,000,000,000")


@pytest.mark.parametrize("key, most", [("ngf", 2**31 - 1), ("batch_size", 2**31 - 1), ("mlp_layers", 1000),
                                       ("threads", 1024)])
def test_sizes_no_network_means_are_refused_in_one_line(key, most):
    """A width of 2**63 gave a torch TypeError traceback, threads=2**40 a cryptic "Overflow", mlp_layers=10**4 an
    estimate that took 19 s: each is one line now."""
    assert getattr(GANConfig.from_flat({key: most, "dataset": "ring8"} if key == "mlp_layers" else {key: most}),
                   key) == most
    with pytest.raises(ValueError) as e:
        GANConfig.from_flat({key: most + 1})
    assert str(e.value) == f"config key {key!r} = {most + 1} is out of range; allowed: at most {most:,}"


def test_the_reports_of_a_run_are_bounded():
    """steps=10**6 with eval_every=1 passed every check and never finished: each report assesses the whole history."""
    assert GANConfig.from_flat({"steps": 10_000, "eval_every": 1}).steps == 10_000
    assert GANConfig.from_flat({"steps": 10_001, "eval_every": 2}).steps == 10_001  # 5,001 reports (the last short)
    with pytest.raises(ValueError) as e:
        GANConfig.from_flat({"steps": 1_000_000, "eval_every": 1})
    assert str(e.value) == ("config keys 'steps' / 'eval_every' = 1000000 / 1 give 1,000,000 reports; allowed: at most "
                            "10,000 reports a run (a larger eval_every)")
    with pytest.raises(ValueError, match="give 10,001 reports"):
        GANConfig.from_flat({"steps": 10_001, "eval_every": 1})


def test_the_mlp_generator_has_batchnorm_only_when_asked_and_dcgan_keeps_its_guideline():
    assert GANConfig.from_flat({"dataset": "ring8"}).batchnorm_g is False
    assert GANConfig.from_flat({"dataset": "mnist5k", "arch": "mlp"}).batchnorm_g is False
    assert GANConfig.from_flat({"dataset": "ring8", "batchnorm_g": True}).batchnorm_g is True
    assert GANConfig.from_flat({"dataset": "gauss1d"}).batchnorm_g is False
    assert GANConfig.from_flat({"dataset": "mnist5k"}).batchnorm_g is True


def test_the_released_codes_switches_and_sgd_are_accepted():
    cfg = GANConfig.from_flat({"dataset": "ring8", "pack": 3, "batch_size": 100, "updates": "simultaneous",
                               "optimizer": "sgd", "momentum": 0.5, "init": "normal_0.02"})
    assert (cfg.pack, cfg.samples_per_batch, cfg.updates, cfg.optimizer, cfg.momentum, cfg.init) == \
        (3, 300, "simultaneous", "sgd", 0.5, "normal_0.02")
    assert GANConfig.from_flat({}).samples_per_batch == 64


def test_unknown_key_suggests_the_close_one():
    with pytest.raises(ValueError, match=r"did you mean 'lr_d'\?"):
        GANConfig.from_flat({"lr_dd": 1e-3})


def test_not_a_mapping():
    with pytest.raises(ValueError, match="mapping"):
        GANConfig.from_flat([("k", 1)])


def test_numeric_coercions_are_exact_and_numpy_scalars_are_accepted():
    cfg = GANConfig.from_flat({"k": 3.0, "lr_d": 1, "beta1": np.float64(0.25), "batch_size": np.int64(16),
                               "fc_hidden": np.bool_(True)})
    assert (cfg.k, cfg.lr_d, cfg.beta1, cfg.batch_size, cfg.fc_hidden) == (3, 1.0, 0.25, 16, True)
    assert type(cfg.k) is int and type(cfg.lr_d) is float and type(cfg.batch_size) is int


def test_config_is_frozen():
    cfg = GANConfig.from_flat({})
    with pytest.raises(Exception):
        cfg.k = 3


def test_derived_properties():
    assert (GANConfig.from_flat({"dataset": "cifar10"}).channels, GANConfig.from_flat({}).channels) == (3, 1)
    assert GANConfig.from_flat({"dataset": "grid25"}).data_dim == 2
    assert GANConfig.from_flat({"dataset": "gauss1d"}).data_dim == 1
    assert GANConfig.from_flat({"dataset": "ring8"}).is_image is False


@pytest.mark.parametrize("text, value", [("3", 3), ("2e-4", 2e-4), ("true", True), ("False", False),
                                         ("minimax", "minimax"), ("0.5", 0.5)])
def test_parse_cli_value(text, value):
    parsed = parse_cli_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_the_papers_mnist_model_is_a_config():
    """Goodfellow et al. 2014's MNIST networks (goodfeli/adversarial): G 2 x 1200 ReLU, D 2 maxout layers of 240
    units x 5 pieces with dropout 0.2 on the input and 0.5 on the hidden layers."""
    c = GANConfig.from_flat({"dataset": "mnist5k", "arch": "mlp", "mlp_hidden": 1200, "mlp_hidden_d": 240,
                             "maxout_pieces": 5, "dropout_input": 0.2, "dropout_hidden": 0.5})
    assert (c.arch, c.mlp_hidden, c.mlp_hidden_d, c.maxout_pieces, c.dropout_input, c.dropout_hidden) == \
        ("mlp", 1200, 240, 5, 0.2, 0.5)
    assert GANConfig.from_flat(c.to_flat()) == c
    with pytest.raises(ValueError) as e:
        GANConfig.from_flat({"dataset": "mnist5k", "maxout_pieces": 5})
    assert str(e.value) == ("config key 'maxout_pieces' = 5 does not fit arch 'dcgan' (it applies to arch 'mlp' | "
                            "'affine'); allowed: 0, or arch 'mlp'")



def test_parse_overrides_types_and_refuses_malformed_or_repeated_items():
    from gan_core.config import parse_overrides

    assert parse_overrides(["k=3", "lr_d=1e-3", "fc_hidden=true", "dataset=ring8"]) == {
        "k": 3, "lr_d": 1e-3, "fc_hidden": True, "dataset": "ring8"}
    with pytest.raises(ValueError, match=r"^argument 'k' is not of the form key=value; allowed: key=value, e.g. k=3$"):
        parse_overrides(["k"])
    with pytest.raises(ValueError, match=r"^--set ' =1' is not of the form key=value"):
        parse_overrides([" =1"], option="--set")
    with pytest.raises(ValueError, match=r"^config key 'k' is given twice; allowed: each key once$"):
        parse_overrides(["k=1", " k=2"])
