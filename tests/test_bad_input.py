"""Bad input, tried and listed (issue 7, part 1): ONE table of distinct bad inputs across the study CLIs, the train and
report CLIs, config values, search spaces, dataset names and paths, results directories and checkpoints.

Every CLI row must give exit code 2 and exactly one line on stderr holding the row's fragment (what is wrong and what
is allowed), write nothing (the whole work folder the row runs in, cwd included, is byte for byte the same afterwards)
and start no Ray:
- rows run as real processes ("script", "module") get their own ``RAY_TMPDIR``; Ray puts its session folder under
  ``$RAY_TMPDIR/ray`` the moment it starts (ray._common.utils.get_default_ray_temp_dir), so that folder must not
  appear (tests/test_faults.py shows it does appear when a study really starts Ray that way);
- rows run in-process (the session's Ray may already be connected in this process) replace ``ray.init`` and the
  runner's ``connect`` by functions that fail the test if called, and check ``ray.is_initialized()`` is unchanged.
Library rows ("call") must raise the row's exception with a one-line message holding the fragment.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import os
import pickle
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.error import URLError

import pytest
import torch

from gan_core.checkpoint import FORMAT, CheckpointError, load_state
from gan_core.config import GANConfig
from gan_core.data import DatasetUnavailableError

REPO = Path(__file__).resolve().parents[1]
RING = {"dataset": "ring8", "steps": 4, "eval_every": 2, "mlp_hidden": 8}
NO_CUDA = not torch.cuda.is_available()


@dataclass(frozen=True)
class Row:
    how: str          # study | script | module | train | report | space | call (see ``run_row``)
    target: str       # study module, script path, ``-m`` module, or the name of a CALLS entry
    argv: tuple = ()  # command-line arguments; {placeholders} name folders of the work area (``workspace``)
    fragment: str = ""  # exact fragment of the one-line message, with {placeholders}
    error: type | None = None  # "call" rows: the exception expected
    fixture: str | None = None  # a fixture the row needs (the session's Ray cluster, connected in this process)


def study(module: str, *argv: str, fragment: str, fixture: str | None = None) -> Row:
    return Row("study", module, argv, fragment, fixture=fixture)


# ------------------------------------------------------------------------------------------------------ the table
ROWS: dict[str, Row] = {
    # ---- study CLIs: options
    "unknown option (process)": Row("script", "studies/k_sweep.py", ("--bogus", "--storage-path", "{storage}"),
                                    "k_sweep: error: unrecognized arguments: --bogus"),
    "--steps 0": study("k_sweep", "--steps", "0", "--storage-path", "{storage}",
                       fragment="k_sweep: error: argument --steps: '0' is not allowed; allowed: an integer >= 1"),
    "--seeds -1 (process)": Row("script", "studies/arch_ablation.py", ("--seeds", "-1", "--storage-path", "{storage}"),
                                "arch_ablation: error: argument --seeds: '-1' is not allowed; allowed: an integer "
                                ">= 1"),
    "--seeds x": study("k_sweep", "--seeds", "x", "--storage-path", "{storage}",
                       fragment="k_sweep: error: argument --seeds: 'x' is not an integer"),
    "--cpus-per-trial 0": study("arch_ablation", "--cpus-per-trial", "0", "--storage-path", "{storage}",
                                fragment="argument --cpus-per-trial: '0' is not allowed; allowed: an integer >= 1"),
    "--gpus-per-trial -0.5": study("k_sweep", "--gpus-per-trial", "-0.5", "--storage-path", "{storage}",
                                   fragment="argument --gpus-per-trial: '-0.5' is not allowed; allowed: a finite "
                                            "number >= 0"),
    "--members-per-trial 0": study("mode_collapse", "--members-per-trial", "0", "--storage-path", "{storage}",
                                   fragment="argument --members-per-trial: '0' is not allowed; allowed: an integer "
                                            ">= 1, or 'auto'"),
    "--members-per-trial in a search": study(
        "lr_search", "--members-per-trial", "2", "--storage-path", "{storage}",
        fragment="--members-per-trial 2: study 'lr_search' runs one seed per trial (its searcher or scheduler "
                 "chooses and stops trials one by one); allowed: --members-per-trial 1 or auto"),
    "--members-per-trial with dropout": study(
        "goodfellow2014", "--smoke-test", "--seeds", "2", "--members-per-trial", "2", "--storage-path", "{storage}",
        fragment="--members-per-trial 2: study 'goodfellow2014' runs one seed per trial (its configs use dropout, "
                 "which draws from torch's one global random stream); allowed: --members-per-trial 1 or auto"),
    "--max-failures -1": study("lr_search", "--max-failures", "-1", "--storage-path", "{storage}",
                               fragment="argument --max-failures: '-1' is not allowed; allowed: an integer >= 0"),
    "--num-samples 0": study("lr_search", "--num-samples", "0", "--storage-path", "{storage}",
                             fragment="lr_search: error: argument --num-samples: '0' is not allowed; allowed: an "
                                      "integer >= 1"),
    "--smoke-test with --full": study("k_sweep", "--smoke-test", "--full", "--storage-path", "{storage}",
                                      fragment="argument --full: not allowed with argument --smoke-test"),
    "--k 1,,2": study("k_sweep", "--k", "1,,2", "--storage-path", "{storage}",
                      fragment="argument --k: '1,,2': expected comma-separated integers, e.g. 1,2,3"),
    "--k 1,1 repeats": study("k_sweep", "--k", "1,1", "--storage-path", "{storage}",
                             fragment="--k [1, 1] / --g-loss ['non_saturating', 'minimax']: values repeat"),
    # ---- study CLIs: values checked by the config, for every trial of the space
    "--k 0": study("k_sweep", "--k", "0", "--storage-path", "{storage}",
                   fragment="k_sweep: error: invalid trial config (variant='k0_non_saturating', seed=0): config "
                            "key 'k' = 0 is out of range; allowed: >= 1"),
    "--g-loss hinge": study("k_sweep", "--g-loss", "hinge", "--storage-path", "{storage}",
                            fragment="invalid trial config (variant='k1_hinge', seed=0): config key 'g_loss' = 'hinge' "
                                     "is not allowed; allowed: 'non_saturating' | 'minimax'"),
    "--dataset imagenet (process)": Row("script", "studies/lr_search.py",
                                        ("--dataset", "imagenet", "--storage-path", "{storage}"),
                                        "lr_search: error: argument --dataset: invalid choice: 'imagenet' (choose from "
                                        "'ring8', 'grid25', 'mnist5k', 'mnist', 'fashion_mnist', 'cifar10')"),
    "--image-size 48": study("arch_ablation", "--image-size", "48", "--storage-path", "{storage}",
                             fragment="invalid base config: config key 'image_size' = 48 is not allowed for dataset "
                                      "'mnist5k' with arch 'dcgan'; allowed: 32 | 64 (and 28, the digits' own size, "
                                      "for the MNIST family with arch 'mlp')"),
    "--set kk=1": study("k_sweep", "--set", "kk=1", "--storage-path", "{storage}",
                        fragment="k_sweep: error: invalid base config: unknown config key 'kk' (did you mean 'k'?); "
                                 "allowed keys: arch, batch_size, "),
    "--set lr_d=-1": study("arch_ablation", "--set", "lr_d=-1", "--storage-path", "{storage}",
                           fragment="invalid base config: config key 'lr_d' = -1.0 is out of range; allowed: a finite "
                                    "number > 0"),
    "--set beta1=1": study("lr_search", "--set", "beta1=1", "--storage-path", "{storage}",
                           fragment="invalid base config: config key 'beta1' = 1.0 is out of range; allowed: "
                                    "0 <= value < 1"),
    "--set nz=100000000, a memory bomb": study("k_sweep", "--set", "nz=100000000", "--storage-path", "{storage}",
                                               fragment="k_sweep: error: invalid trial config (variant='k1_"
                                                        "non_saturating', seed=0): config needs about "),
    "--cpus-per-trial 512 (process)": Row("script", "studies/k_sweep.py", ("--cpus-per-trial", "512",
                                                                           "--storage-path", "{storage}"),
                                          "k_sweep: error: --cpus-per-trial 512 asks for more CPUs than any trial "
                                          "can get: this machine has "),
    "--gpus-per-trial 64 (process)": Row("script", "studies/lr_search.py", ("--gpus-per-trial", "64",
                                                                            "--storage-path", "{storage}"),
                                         "lr_search: error: --gpus-per-trial 64 asks for a GPU, and no node can have "
                                         "one: this machine; allowed: --gpus-per-trial 0 (or auto), or a cluster "
                                         "with a GPU node type"),
    "--cpus-per-trial 64 on the connected cluster": study("arch_ablation", "--cpus-per-trial", "64",
                                                          "--storage-path", "{storage}",
                                                          fragment="arch_ablation: error: --cpus-per-trial 64 asks "
                                                                   "for more CPUs than any trial can get: the "
                                                                   "cluster's largest node or node type, node ",
                                                          fixture="ray_cluster"),
    "--set without =": study("k_sweep", "--set", "k", "--storage-path", "{storage}",
                             fragment="k_sweep: error: --set 'k' is not of the form key=value; allowed: key=value, "
                                      "e.g. k=3"),
    "--set for the theory check": study("theory_check", "--set", "k=2", "--storage-path", "{storage}",
                                        fragment="theory_check: error: --set is for GAN config keys; the theory check "
                                                 "has none (use --steps, --seeds)"),
    "--inception-fid for the theory check": study("theory_check", "--inception-fid", "--storage-path", "{storage}",
                                                  fragment="theory_check: error: --inception-fid: study "
                                                           "'theory_check' scores no images; allowed: without it"),
    "--inception-fid on points": study("k_sweep", "--smoke-test", "--inception-fid", "--storage-path", "{storage}",
                                       fragment="k_sweep: error: the Inception FID was asked for dataset 'ring8'; "
                                                "allowed: image datasets"),
    "--packs 1": study("mode_collapse", "--packs", "1", "--storage-path", "{storage}",
                       fragment="mode_collapse: error: --packs [1]: allowed: distinct pack sizes >= 2 (m = 1 is "
                                "'gan')"),
    "theory --steps 0 (process)": Row("script", "studies/theory_check.py", ("--steps", "0", "--storage-path",
                                                                            "{storage}"),
                                      "theory_check: error: invalid trial config (variant='mu0_sd1', seed=0): theory "
                                      "config key 'steps' = 0 is not allowed; allowed: an integer >= 1"),
    # ---- dataset names and paths
    "torchvision dataset offline": study("k_sweep", "--smoke-test", "--dataset", "mnist", "--set",
                                         "data_root={data}", "--storage-path", "{storage}",
                                         fragment="k_sweep: error: dataset 'mnist' is not in {data} and could not be "
                                                  "downloaded (<urlopen error stubbed: no network>); put it there, set "
                                                  "data_root to a copy, or use dataset=mnist5k, which needs no "
                                                  "download"),
    # ---- search spaces
    "searched key not a config key": Row("space", "lr_dd", (), "lr_search: error: invalid trial config "
                                         "(variant='tpe', seed=0): unknown config key 'lr_dd' (did you mean 'lr_d'?)"),
    "searched bound out of range": Row("space", "beta1_1.5", (), "lr_search: error: invalid trial config "
                                       "(variant='tpe', seed=0): config key 'beta1' = 1.5 is out of range; allowed: "
                                       "0 <= value < 1"),
    "searched normal, no bounds": Row("space", "beta1_randn", (), "lr_search: error: searched key 'beta1' needs finite "
                                      "bounds, got [-inf, inf]; allowed: finite lower and upper bounds"),
    "searched domain not checkable": Row("space", "sample_from", (), "lr_search: error: searched key 'lr_d': cannot "
                                         "validate a Function domain before the run; allowed: tune.uniform/"
                                         "loguniform/quniform, tune.randint/lograndint, tune.choice"),
    # ---- cluster address
    "--address nohost (process)": Row("script", "studies/k_sweep.py",
                                      ("--address", "nohost.invalid:1", "--storage-path", "{storage}"),
                                      "k_sweep: error: cannot reach the Ray cluster at 'nohost.invalid:1': "),
    "--address refused": study("k_sweep", "--address", "127.0.0.1:1", "--storage-path", "{storage}",
                               fragment="cannot reach the Ray cluster at '127.0.0.1:1': Connection refused; allowed: "
                                        "the host:port of a running Ray head, or no --address for a local Ray"),
    "--address garbage": study("k_sweep", "--address", "garbage", "--storage-path", "{storage}",
                               fragment="k_sweep: error: --address 'garbage': allowed forms: host:port, auto, "
                                        "ray://host:port"),
    "--address http://": study("lr_search", "--address", "http://head:8265", "--storage-path", "{storage}",
                               fragment="--address 'http://head:8265': allowed forms: host:port, auto, "
                                        "ray://host:port"),
    # ---- results directories
    "--storage-path under a file (process)": Row("script", "studies/k_sweep.py", ("--storage-path", "{blocked}"),
                                                 "k_sweep: error: --storage-path '{blocked}' is not writable: Not a "
                                                 "directory; allowed: a writable local directory or a URI such as "
                                                 "s3://bucket/prefix"),
    "--storage-path in /proc": study("k_sweep", "--storage-path", "/proc/gan-study-results",
                                     fragment="k_sweep: error: --storage-path '/proc/gan-study-results' is not "
                                              "writable: "),
    "--storage-path is a file": study("theory_check", "--storage-path", "{file}",
                                      fragment="theory_check: error: --storage-path '{file}' is not writable: File "
                                               "exists"),
    "--name with a slash": study("k_sweep", "--name", "a/b", "--storage-path", "{storage}",
                                 fragment="k_sweep: error: --name 'a/b': allowed: one directory name, no '/'"),
    "--resume with nothing to resume (process)": Row("script", "studies/k_sweep.py",
                                                     ("--resume", "--storage-path", "{storage}"),
                                                     "k_sweep: error: --resume: no study to resume at "
                                                     "'{storage}/k_sweep'; allowed: the --storage-path and --name of a "
                                                     "study that was started before"),
    "existing study without --resume": study("k_sweep", "--smoke-test", "--storage-path", "{existing}",
                                             fragment="k_sweep: error: a study already exists at "
                                                      "'{existing}/k_sweep_smoke': pass --resume to continue it, or "
                                                      "another --name"),
    "--resume on a damaged experiment state": study("k_sweep", "--resume", "--storage-path", "{damaged}",
                                                    fragment="k_sweep: error: --resume: Ray's experiment state "
                                                             "'{damaged}/k_sweep/experiment_state-2026-01-01_00-00-00"
                                                             ".json' is damaged (Expecting value: line 1 column 17 "
                                                             "(char 16)); allowed: a study whose experiment state is "
                                                             "complete (run this one again under another --name)"),
    # ---- issue 21 and 27: absurd sizes, resumes that would change the study, options of the cluster
    "--seeds 1000000": study("k_sweep", "--seeds", "1000000", "--storage-path", "{storage}",
                             fragment="k_sweep: error: the study would start 8,000,000 trials; allowed: at most 20,000 "
                                      "(fewer --seeds, variants or samples)"),
    "--name of 300 characters": study("k_sweep", "--name", "n" * 300, "--storage-path", "{storage}",
                                      fragment="k_sweep: error: --name is 300 bytes long; allowed: one directory name "
                                               "of at most 100 bytes"),
    "--set seed, which the study sets": study("k_sweep", "--set", "seed=5", "--storage-path", "{storage}",
                                              fragment="k_sweep: error: --set seed: study 'k_sweep' sets 'seed' "
                                                       "itself in every trial (its seeds, variants or search); "
                                                       "allowed: its own options for it (e.g. --seeds), or --set of "
                                                       "a key it shares across trials"),
    "--set seed beyond torch's generators": study("lr_search", "--set", "seed=1180591620717411303424",
                                                  "--storage-path", "{storage}",
                                                  fragment="lr_search: error: invalid base config: config key 'seed' "
                                                           "= 1180591620717411303424 is out of range; allowed: an "
                                                           "integer from 0 to 4294967"),
    "--set steps=1e99": study("arch_ablation", "--set", "steps=1e99", "--storage-path", "{storage}",
                              fragment="arch_ablation: error: invalid base config: config key 'steps' = 1e+99 is a "
                                       "float too large to be an exact integer"),
    "--set eval_samples=1000000000": study("k_sweep", "--set", "eval_samples=1000000000", "--storage-path",
                                           "{storage}",
                                           fragment="one evaluation of eval_samples = 1,000,000,000 samples: "),
    "--start-timeout 0": study("k_sweep", "--start-timeout", "0", "--storage-path", "{storage}",
                               fragment="argument --start-timeout: '0' is not allowed; allowed: a finite number > 0"),
    "--trial-timeout inf": study("k_sweep", "--trial-timeout", "inf", "--storage-path", "{storage}",
                                 fragment="argument --trial-timeout: 'inf' is not allowed; allowed: a finite number "
                                          "> 0"),
    "--gpus-per-trial for the theory check": study("theory_check", "--gpus-per-trial", "0.5", "--storage-path",
                                                   "{storage}",
                                                   fragment="theory_check: error: --gpus-per-trial 0.5: the trials of "
                                                            "study 'theory_check' run on the CPU; allowed: "
                                                            "--gpus-per-trial 0 or auto"),
    "--resume with another --dataset": study("k_sweep", "--resume", "--dataset", "grid25", "--storage-path",
                                             "{resumable}",
                                             fragment="k_sweep: error: --resume: --dataset grid25 differs from the "
                                                      "study's own --dataset (not given: the preset's value) "
                                                      "({resumable}/k_sweep/study.json: studies/k_sweep.py --seeds "
                                                      "2); allowed: leave it out (a resume runs what the study "
                                                      "stored), or start a new study under another --name"),
    "--resume with another --set": study("k_sweep", "--resume", "--set", "eval_samples=20", "--storage-path",
                                         "{resumable}",
                                         fragment="k_sweep: error: --resume: --set eval_samples=20 differs from the "
                                                  "study's own --set (none) "),
    "--resume of a study whose stored design differs": study(
        "k_sweep", "--resume", "--storage-path", "{redesigned}",
        fragment="k_sweep: error: --resume: the study at '{redesigned}/k_sweep' was started with evaluator "
                 "config.eval_samples=99, and this run would score with config.eval_samples=2500; allowed: resume it "
                 "with the arguments (and the version of gan-study) it was started with, or start a new study under "
                 "another --name"),
    # ---- python -m gan_core.train
    "train: unknown key (process)": Row("module", "gan_core.train", ("kk=3", "--out", "{out}"),
                                        "python -m gan_core.train: error: unknown config key 'kk' (did you mean "
                                        "'k'?); allowed keys: "),
    "train: bad value": Row("train", "", ("steps=0", "--out", "{out}"),
                            "python -m gan_core.train: error: config key 'steps' = 0 is out of range; allowed: >= 1"),
    "train: wrong type": Row("train", "", ("fc_hidden=yes", "--out", "{out}"),
                             "config key 'fc_hidden' = 'yes' has type str; allowed: bool"),
    "train: arch for another dataset": Row("train", "", ("dataset=ring8", "arch=dcgan", "--out", "{out}"),
                                           "config key 'arch' = 'dcgan' does not fit point dataset 'ring8'; allowed: "
                                           "'mlp'"),
    "train: --out under a file": Row("train", "", ("dataset=ring8", "--out", "{blocked}"),
                                     "python -m gan_core.train: error: --out '{blocked}' is not writable (Not a "
                                     "directory); allowed: a writable directory"),
    "train: a memory bomb (process)": Row("module", "gan_core.train", ("dataset=ring8", "nz=100000000", "--out",
                                                                      "{out}"),
                                          "python -m gan_core.train: error: config needs about 1.37 TB of memory for "
                                          "one run (12,800,033,923 parameters in G and D with gradients and Adam "
                                          "state: 191 GB; "),
    "train: dataset offline": Row("train", "", ("dataset=cifar10", "data_root={data}", "--no-metrics", "--out",
                                                "{out}"),
                                  "python -m gan_core.train: error: dataset 'cifar10' is not in {data} and could not "
                                  "be downloaded (<urlopen error stubbed: no network>); put it there, set data_root to "
                                  "a copy, or use dataset=mnist5k, which needs no download"),
    # ---- python -m analysis.report
    "report: missing path (process)": Row("module", "analysis.report", ("{missing}",),
                                          "error: '{missing}' does not exist; give the experiment folder of a study "
                                          "(<storage_path>/<study name>)"),
    "report: not a Ray directory": Row("report", "", ("{plain}",),
                                       "error: '{plain}' is not a Ray results directory: no study.json, no "
                                       "experiment_state-*.json and no trial folders with params.json"),
    "report: storage path instead of the experiment": Row("report", "", ("{storage_of_exp}",),
                                                          "is not a Ray results directory: no study.json, no "
                                                          "experiment_state-*.json and no trial folders with "
                                                          "params.json; did you mean one of its subfolders: exp?"),
    "report: empty experiment": Row("report", "", ("{empty}",),
                                    "error: study 'empty' at '{empty}' is empty: it has no trial folders yet"),
    "report: study.json not JSON": Row("report", "", ("{badjson}",), "study.json' is not valid JSON: "),
    "report: unknown option": Row("report", "", ("{exp}", "--bogus"),
                                  "python -m analysis.report: error: unrecognized arguments: --bogus"),
    "report: --out under a file": Row("report", "", ("{exp}", "--no-samples", "--out", "{blocked}"),
                                      "error: cannot write the report to '{blocked}': Not a directory"),
    # ---- config values (library)
    "config: lr_g nan": Row("call", "config_nan", (), "config key 'lr_g' = nan is out of range; allowed: a finite "
                                                     "number > 0", ValueError),
    "config: k as text": Row("call", "config_str", (), "config key 'k' = '3' has type str; allowed: int", ValueError),
    "config: unknown dataset": Row("call", "config_dataset", (), "config key 'dataset' = 'imagenet' is not allowed; "
                                   "allowed: 'mnist5k' | 'mnist' | 'fashion_mnist' | 'cifar10' | 'ring8' | 'grid25' | "
                                   "'gauss1d'", ValueError),
    "config: not a mapping": Row("call", "config_list", (), "config must be a mapping of key to value, got list",
                                 ValueError),
    "config: cuda without a GPU": Row("call", "trainer_cuda", (), "device 'cuda' was asked for but torch sees no CUDA "
                                      "GPU; allowed here: 'cpu' or 'auto'", ValueError),
    "dataset offline (library)": Row("call", "dataset_offline", (), "dataset 'fashion_mnist' is not in {data} and "
                                     "could not be downloaded (<urlopen error stubbed: no network>); put it there, set "
                                     "data_root to a copy, or use dataset=mnist5k, which needs no download",
                                     DatasetUnavailableError),
    # ---- checkpoints
    "checkpoint missing": Row("call", "ckpt_missing", (), "checkpoint '{work}/ckpt_folder/state.pt' does not exist; "
                              "expected a state.pt written by gan-study", CheckpointError),
    "checkpoint truncated": Row("call", "ckpt_truncated", (), "checkpoint '{work}/ckpt/truncated.pt' is unreadable "
                                "(truncated, or not a gan-study checkpoint): ", CheckpointError),
    "checkpoint empty file": Row("call", "ckpt_empty", (), "checkpoint '{work}/ckpt/empty.pt' is unreadable "
                                 "(truncated, or not a gan-study checkpoint): ", CheckpointError),
    "checkpoint from another config": Row("call", "ckpt_other_config", (), "checkpoint was made with another "
                                          "configuration: 'k' is 1 there and 2 here (1 key(s) differ); allowed: the "
                                          "same config (only threads, device, data_root, precision may change)", CheckpointError),
    "checkpoint of another format": Row("call", "ckpt_foreign_format", (), "checkpoint '{work}/ckpt/foreign.pt' has "
                                        "format None; allowed: 'gan-study-trainer/1'", CheckpointError),
    "checkpoint a plain pickle": Row("call", "ckpt_plain_pickle", (), "checkpoint '{work}/ckpt/plain.pkl' is "
                                     "unreadable (truncated, or not a gan-study checkpoint): ", CheckpointError),
    "checkpoint a pickle that runs code": Row("call", "ckpt_evil", (), "checkpoint '{work}/ckpt/evil.pt' is "
                                              "unreadable (truncated, or not a gan-study checkpoint): ",
                                              CheckpointError),
}


def test_the_table_is_long_and_wide_enough():
    """At least 20 distinct inputs, from every kind of input the issue lists."""
    assert len(ROWS) == 86
    assert len({(r.how, r.target, r.argv) for r in ROWS.values()}) == len(ROWS)  # distinct inputs
    kinds = {r.how for r in ROWS.values()}
    assert kinds == {"study", "script", "module", "train", "report", "space", "call"}
    assert sum(r.how in ("script", "module") for r in ROWS.values()) == 12


# -------------------------------------------------------------------------------------------------- work area
def _started_k_sweep(storage: Path, argv: list[str], eval_samples: int | None) -> None:
    """The study.json and (empty) experiment state of a k_sweep started with ``argv``; ``eval_samples``: what its
    stored design says the evaluator scored with, where it should differ from what these arguments build."""
    from studies import k_sweep
    from studies.experiment_dir import study_json
    from studies.resume import design_record

    spec = k_sweep.build_spec(k_sweep.build_parser().parse_args(argv))
    design = design_record(spec, False)
    if eval_samples is not None:
        design["evaluator"]["config"]["eval_samples"] = eval_samples
    folder = storage / "k_sweep"
    folder.mkdir(parents=True)
    (folder / "experiment_state-2026-01-01_00-00-00.json").write_text("{}")
    (folder / "study.json").write_text(study_json("k_sweep", "reverse_kl", "min", spec.baseline_variant, spec.variants,
                                                  spec.factors, spec.baseline, ["studies/k_sweep.py", *argv],
                                                  design=design))


def workspace(root: Path) -> dict[str, str]:
    """The folders and files the rows refer to, made under ``root/work``; {placeholder} -> path."""
    work = root / "work"
    work.mkdir()
    (work / "a_file").write_text("a regular file, not a folder")
    (work / "plain").mkdir()
    (work / "plain" / "notes.txt").write_text("no results here")
    (work / "empty").mkdir()
    (work / "empty" / "study.json").write_text(json.dumps({"study": "empty", "primary_metric": "reverse_kl",
                                                           "mode": "min"}))
    (work / "badjson").mkdir()
    (work / "badjson" / "study.json").write_text("{not json")
    (work / "badjson" / "experiment_state-2026-01-01_00-00-00.json").write_text("{}")
    existing = work / "existing" / "k_sweep_smoke"
    existing.mkdir(parents=True)
    (existing / "experiment_state-2026-01-01_00-00-00.json").write_text("{}")
    damaged = work / "damaged" / "k_sweep"  # cut short, as by a disk that filled up while Ray wrote it
    damaged.mkdir(parents=True)
    (damaged / "experiment_state-2026-01-01_00-00-00.json").write_text('{"trial_data": [')
    for name, eval_samples in (("resumable", None), ("redesigned", 99)):  # a k_sweep started with --seeds 2
        _started_k_sweep(work / name, ["--seeds", "2"], eval_samples)
    exp = work / "storage_of_exp" / "exp"
    trial = exp / "baseline_seed0_a1b2c_00000"
    trial.mkdir(parents=True)
    (exp / "study.json").write_text(json.dumps({"study": "exp", "primary_metric": "reverse_kl", "mode": "min"}))
    params = {**GANConfig.from_flat(RING).to_flat(), "variant": "baseline"}
    (trial / "params.json").write_text(json.dumps(params))
    rows = [{"g_steps": s, "d_steps": s, "status": st, "reverse_kl": kl, "modes_captured": 8.0, "d_loss": 1.3,
             "g_loss": 0.7, "d_real": 0.5, "d_fake": 0.5, "trial_id": "a1b2c_00000", "training_iteration": i + 1,
             "time_total_s": 1.0 + i} for i, (s, st, kl) in enumerate(((2, "running", 0.5), (4, "ok", 0.4)))]
    (trial / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {"work": str(work), "storage": str(work / "results"), "blocked": str(work / "a_file" / "results"),
            "file": str(work / "a_file"), "out": str(work / "out"), "missing": str(work / "nope"),
            "plain": str(work / "plain"), "empty": str(work / "empty"), "badjson": str(work / "badjson"),
            "existing": str(work / "existing"), "damaged": str(work / "damaged"), "exp": str(exp),
            "storage_of_exp": str(work / "storage_of_exp"), "resumable": str(work / "resumable"),
            "redesigned": str(work / "redesigned"),
            "data": str(root / "data" / "nodata")}  # a dataset cache may be written (a lock file): not in work


def snapshot(folder: Path) -> dict[str, str]:
    """relative path -> "dir" or the sha256 of the file: equal snapshots mean nothing was written."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), folder)] = "dir"
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, folder)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out


def fill(text: str, places: dict[str, str]) -> str:
    return text.format(**places)


# ------------------------------------------------------------------------------------------- real processes
def process_argv(row: Row, places: dict[str, str]) -> list[str]:
    argv = [fill(a, places) for a in row.argv]
    if row.how == "script":
        return [sys.executable, str(REPO / row.target), *argv]
    return [sys.executable, "-m", row.target, *argv]


def run_process(row: Row, root: Path) -> dict[str, Any]:
    places = workspace(root)
    work = Path(places["work"])
    before = snapshot(work)
    ray_tmp = root / "raytmp"
    ray_tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "PYTHONPATH")}
    env.update(RAY_TMPDIR=str(ray_tmp), TMPDIR=str(ray_tmp), PYTHONPATH=str(REPO))
    proc = subprocess.run(process_argv(row, places), cwd=work, env=env, capture_output=True, text=True, timeout=300)
    return {"proc": proc, "places": places, "before": before, "after": snapshot(work),
            "ray_dirs": sorted(p.name for p in ray_tmp.iterdir())}


@pytest.fixture(scope="module")
def processes(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Every process row, run three at a time (each pays ~3 s of torch and Ray imports)."""
    rows = {name: row for name, row in ROWS.items() if row.how in ("script", "module")}
    roots = {name: tmp_path_factory.mktemp("proc") for name in rows}
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(run_process, row, roots[name]) for name, row in rows.items()}
        return {name: f.result() for name, f in futures.items()}


# ----------------------------------------------------------------------------------------------- in-process
class RayStarted(AssertionError):
    pass


def _no_ray(*args, **kwargs):
    raise RayStarted("Ray was started or joined for input that can be checked before")


@pytest.fixture
def guarded(monkeypatch):
    """ray.init and the runner's connect fail the test if called; torchvision downloads fail as if offline."""
    import ray
    from torchvision import datasets

    import studies.runner

    monkeypatch.setattr(ray, "init", _no_ray)
    monkeypatch.setattr(studies.runner, "connect", _no_ray)

    def offline(self):
        raise URLError("stubbed: no network")

    for cls in (datasets.MNIST, datasets.FashionMNIST, datasets.CIFAR10):
        monkeypatch.setattr(cls, "download", offline)
    return ray


def run_space_row(target: str, places: dict[str, str]) -> int:
    """lr_search's own spec and arguments with one searched dimension replaced by a bad one, through the runner."""
    from ray import tune

    from studies import cli, lr_search
    from studies.runner import run_study

    bad = {"lr_dd": lambda: {"lr_dd": tune.loguniform(1e-5, 1e-2)},
           "beta1_1.5": lambda: {"beta1": tune.uniform(0.0, 1.5)},
           "beta1_randn": lambda: {"beta1": tune.randn(0.5, 0.1)},
           "sample_from": lambda: {"lr_d": tune.sample_from(lambda _: 1e-3)}}[target]()
    args = lr_search.build_parser().parse_args(["--storage-path", places["storage"]])
    spec = lr_search.build_spec(args)
    spec = dataclasses.replace(spec, searched={**spec.searched, **bad})
    return cli.run_main("lr_search", lambda: run_study(spec, args).exit_code)


def run_in_process(row: Row, places: dict[str, str]) -> int:
    argv = [fill(a, places) for a in row.argv]
    if row.how == "study":
        import importlib

        module = importlib.import_module(f"studies.{row.target}")
        with pytest.raises(SystemExit) as e:
            module.main(argv)
        return e.value.code
    if row.how == "space":
        with pytest.raises(SystemExit) as e:
            run_space_row(row.target, places)
        return e.value.code
    if row.how == "train":
        from gan_core.train import main

        with pytest.raises(SystemExit) as e:  # argparse errors exit; config errors return 2
            raise SystemExit(main(argv))
        return e.value.code
    if row.how == "report":
        from analysis.report import main

        with pytest.raises(SystemExit) as e:
            raise SystemExit(main(argv))
        return e.value.code
    raise AssertionError(row.how)


# ------------------------------------------------------------------------------------------------ library calls
def _checkpoint(work: Path, name: str, cfg: dict) -> Path:
    from gan_core.trainer import Trainer

    path = work / "ckpt" / name
    Trainer(GANConfig.from_flat(cfg), device="cpu").save(path)
    return path


class _RunsCode:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('unpickled')",))


def call_config_nan(places):
    GANConfig.from_flat({"lr_g": float("nan")})


def call_config_str(places):
    GANConfig.from_flat({"k": "3"})


def call_config_dataset(places):
    GANConfig.from_flat({"dataset": "imagenet"})


def call_config_list(places):
    GANConfig.from_flat([("k", 1)])


def call_trainer_cuda(places):
    if not NO_CUDA:
        pytest.skip("torch sees a CUDA GPU here: device=cuda is valid")
    from gan_core.trainer import Trainer

    Trainer(GANConfig.from_flat({**RING, "device": "cuda"}))


def call_dataset_offline(places):
    from gan_core.data import load_dataset

    load_dataset(GANConfig.from_flat({"dataset": "fashion_mnist", "data_root": places["data"]}))


def call_ckpt_missing(places):
    folder = Path(places["work"]) / "ckpt_folder"
    folder.mkdir()
    load_state(folder)  # a checkpoint folder without state.pt


def call_ckpt_truncated(places):
    path = _checkpoint(Path(places["work"]), "truncated.pt", RING)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    load_state(path)


def call_ckpt_empty(places):
    path = Path(places["work"]) / "ckpt" / "empty.pt"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"")
    load_state(path)


def call_ckpt_other_config(places):
    from gan_core.trainer import Trainer

    path = _checkpoint(Path(places["work"]), "k1.pt", RING)
    Trainer(GANConfig.from_flat({**RING, "k": 2}), device="cpu").load(path)


def call_ckpt_foreign_format(places):
    path = Path(places["work"]) / "ckpt" / "foreign.pt"
    path.parent.mkdir(exist_ok=True)
    torch.save({"weights": torch.zeros(2)}, path)
    load_state(path)


def call_ckpt_plain_pickle(places):
    path = Path(places["work"]) / "ckpt" / "plain.pkl"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(pickle.dumps({"format": FORMAT, "generator": {}}))
    with warnings.catch_warnings():  # torch notes the pickle protocol before it refuses the file
        warnings.simplefilter("ignore", UserWarning)
        load_state(path)


def call_ckpt_evil(places):
    work = Path(places["work"])
    path = work / "ckpt" / "evil.pt"
    path.parent.mkdir(exist_ok=True)
    torch.save({"format": FORMAT, "x": _RunsCode(str(work / "pwned"))}, path, pickle_module=pickle)
    try:
        load_state(path)
    finally:
        assert not (work / "pwned").exists()  # the file's code never ran


CALLS: dict[str, Callable[[dict[str, str]], None]] = {
    name[len("call_"):]: fn for name, fn in globals().items() if name.startswith("call_")}


# ---------------------------------------------------------------------------------------------------- the test
@pytest.mark.parametrize("name", list(ROWS))
def test_bad_input(name, tmp_path, monkeypatch, capsys, request):
    row = ROWS[name]
    if row.how in ("script", "module"):
        got = request.getfixturevalue("processes")[name]
        proc, places = got["proc"], got["places"]
        assert proc.returncode == 2, proc.stderr[-3000:]
        lines = proc.stderr.splitlines(keepends=True)
        assert len(lines) == 1 and lines[0].endswith("\n"), proc.stderr[-3000:]
        assert fill(row.fragment, places) in lines[0]
        assert got["after"] == got["before"]  # nothing written, cwd included
        # no Ray session folder: Ray never started (torch may leave its compiler cache, torchinductor_<user>, in
        # the temporary folder when the memory estimate first runs a network on the meta device)
        assert [d for d in got["ray_dirs"] if not d.startswith("torchinductor_")] == []
        return

    places = workspace(tmp_path)
    work = Path(places["work"])
    if row.how == "call":
        fn = CALLS[row.target]
        if row.target == "dataset_offline":
            request.getfixturevalue("guarded")
        with pytest.raises(row.error) as e:
            fn(places)
        message = str(e.value)
        assert "\n" not in message
        assert fill(row.fragment, places) in message
        return

    if row.fixture is not None:
        request.getfixturevalue(row.fixture)
    ray = request.getfixturevalue("guarded")
    monkeypatch.chdir(work)  # a default relative output path (./results, runs/train) would land in the snapshot
    was_connected = ray.is_initialized()
    before = snapshot(work)
    capsys.readouterr()
    code = run_in_process(row, places)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert fill(row.fragment, places) in err
    assert snapshot(work) == before  # nothing written
    assert ray.is_initialized() == was_connected
