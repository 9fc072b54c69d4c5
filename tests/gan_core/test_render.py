"""Figures from real trainer checkpoints: sample grids, scatter over modes, interpolation, z arithmetic; and the
command the report runs for them (``python -m gan_core.render JOBS.json RESULTS.json``)."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core import render as samples
from gan_core.config import GANConfig


def title_of(path):
    with Image.open(path) as im:
        return im.info.get("Title")


@pytest.fixture(scope="module")
def dcgan(dcgan_checkpoint):
    return samples.load_generator(dcgan_checkpoint)


@pytest.fixture(scope="module")
def ring8(ring8_checkpoint):
    return samples.load_generator(ring8_checkpoint)


def test_image_grid_interpolation_and_arithmetic(dcgan, tmp_path):
    g, cfg = dcgan
    assert cfg.is_image and cfg.ngf == 8 and not g.training
    for fn, name in ((samples.samples_figure, "grid"), (samples.interpolation_figure, "interp"),
                     (samples.arithmetic_figure, "arith")):
        path = fn(g, cfg, tmp_path / f"{name}.png", f"title {name}")
        assert path == tmp_path / f"{name}.png"
        assert title_of(path) == f"title {name}"
        assert np.asarray(Image.open(path)).ndim == 3


def test_point_scatter_and_paths_and_no_arithmetic(ring8, tmp_path):
    g, cfg = ring8
    assert cfg.dataset == "ring8"
    assert title_of(samples.samples_figure(g, cfg, tmp_path / "s.png", "ring")) == "ring"
    assert title_of(samples.interpolation_figure(g, cfg, tmp_path / "i.png", "path")) == "path"
    assert samples.arithmetic_figure(g, cfg, tmp_path / "a.png", "a") is None
    assert not (tmp_path / "a.png").exists()


def test_gauss1d_histogram(tmp_path):
    cfg = GANConfig.from_flat({"dataset": "gauss1d"})
    from gan_core.models import build_generator

    g = build_generator(cfg).eval()
    assert title_of(samples.samples_figure(g, cfg, tmp_path / "h.png", "1d")) == "1d"
    assert title_of(samples.interpolation_figure(g, cfg, tmp_path / "p.png", "1d path")) == "1d path"


def test_to_unit_shows_every_output_on_the_datas_range():
    # the data's [-1, 1] onto [0, 1] whatever the output layer: a sigmoid's 0 (its darkest) shows as mid-grey,
    # as it compares with the data; a linear output beyond the data's range is clipped; NaN is black
    x = torch.tensor([-1.0, 0.0, 1.0, float("nan"), -3.0, 2.5])
    assert samples.to_unit(x).tolist() == [0.0, 0.5, 1.0, 0.0, 0.0, 1.0]


def test_a_sigmoid_generators_grid_cannot_show_the_datas_black(tmp_path):
    from gan_core.models import build_generator

    cfg = GANConfig.from_flat({"g_output": "sigmoid", "ngf": 8, "nz": 16})
    g = build_generator(cfg).eval()
    images = samples.generate(g, samples.noise(8, cfg))  # [8, 1, 32, 32] in (0, 1)
    assert float(samples.to_unit(images).min()) >= 0.5


def test_kmeans_finds_planted_clusters_deterministically():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = np.concatenate([c + 0.1 * rng.standard_normal((n, 2)) for c, n in zip(centres, (30, 20, 10))])
    labels, found = samples.kmeans(x, 3)
    assert sorted(np.bincount(labels).tolist()) == [10, 20, 30]
    assert sorted(map(tuple, np.round(found).tolist())) == [(0.0, 0.0), (0.0, 10.0), (10.0, 0.0)]
    again, _ = samples.kmeans(x, 3)
    assert (again == labels).all()


def test_arithmetic_groups_are_the_three_largest_clusters():
    # three kinds of 1x16x16 "images": dark (5), bright (4), half-and-half (3)
    dark, bright = torch.full((1, 16, 16), -1.0), torch.full((1, 16, 16), 1.0)
    half = torch.cat([dark[:, :8], bright[:, 8:]], dim=1)
    images = torch.stack([dark] * 5 + [bright] * 4 + [half] * 3)
    groups = samples.arithmetic_groups(images, k=3, members=3)
    assert [sorted(g.tolist()) for g in groups] == [[0, 1, 2], [5, 6, 7], [9, 10, 11]]


def test_the_command_draws_each_job_and_says_why_it_skipped_one(ring8_checkpoint, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    jobs = [{"figure": "samples", "state": str(ring8_checkpoint), "path": str(tmp_path / "s.png"), "title": "ring"},
            {"figure": "arithmetic", "state": str(ring8_checkpoint), "path": str(tmp_path / "a.png"), "title": "a"},
            {"figure": "interpolation", "state": str(bad), "path": str(tmp_path / "i.png"), "title": "bad"}]
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    done = subprocess.run([sys.executable, "-m", "gan_core.render", str(tmp_path / "jobs.json"),
                           str(tmp_path / "results.json")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    got = json.loads((tmp_path / "results.json").read_text())
    assert got[:2] == [{"drawn": True}, {"drawn": False, "skipped": ""}]  # no arithmetic of points
    assert not got[2]["drawn"] and "is unreadable" in got[2]["skipped"] and "\n" not in got[2]["skipped"]
    assert title_of(tmp_path / "s.png") == "ring"
    assert not (tmp_path / "a.png").exists() and not (tmp_path / "i.png").exists()


def test_the_command_without_its_two_files_is_a_usage_line(capsys):
    assert samples.main([]) == 2
    assert capsys.readouterr().err == "usage: python -m gan_core.render JOBS.json RESULTS.json\n"
