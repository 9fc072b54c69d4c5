"""Checkpoints: atomic, weights_only-safe, and refused with one clear line when missing, truncated or foreign."""
import pickle

import pytest
import torch

from gan_core.checkpoint import (FORMAT, CheckpointError, UnreadableCheckpoint, load_generator, load_state,
                                 save_state)
from gan_core.config import GANConfig
from gan_core.trainer import Trainer

RING = {"dataset": "ring8", "steps": 4, "eval_every": 2, "mlp_hidden": 16}


def test_round_trip_with_weights_only(tmp_path):
    save_state(tmp_path / "state.pt", {"x": torch.arange(3), "n": 7})
    state = torch.load(tmp_path / "state.pt", weights_only=True)
    assert state["format"] == FORMAT and state["n"] == 7 and torch.equal(state["x"], torch.arange(3))
    assert load_state(tmp_path)["n"] == 7  # a checkpoint directory works too
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]  # no temp file left behind


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_state(tmp_path / "nope.pt")


def test_truncated_checkpoint(tmp_path):
    trainer = Trainer(GANConfig.from_flat(RING))
    trainer.save(tmp_path / "state.pt")
    data = (tmp_path / "state.pt").read_bytes()
    (tmp_path / "state.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="unreadable"):
        load_state(tmp_path / "state.pt")


@pytest.mark.parametrize("junk", [b"junk\n", b"abc\n", b"j", b"", b"\x80\x02}q\x00.", b"PK\x03\x04 not a zip"])
def test_a_file_overwritten_with_junk_is_an_unreadable_checkpoint(tmp_path, junk):
    """Whatever torch's unpickler raises on junk (KeyError, IndexError, struct.error, ...), it is one
    UnreadableCheckpoint: what a trial's restore skips for an older checkpoint (studies.trainable.restore), and what
    the report's figures skip (an IndexError here once failed the whole report)."""
    (tmp_path / "state.pt").write_bytes(junk)
    with pytest.raises(UnreadableCheckpoint) as e:
        load_state(tmp_path / "state.pt")
    assert str(e.value).startswith(f"checkpoint '{tmp_path / 'state.pt'}' ")
    assert "\n" not in str(e.value)


def test_a_pickle_that_runs_code_is_never_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (exec, ("import pathlib; pathlib.Path('pwned').write_text('x')",))
    with open(tmp_path / "state.pt", "wb") as f:
        torch.save({"format": FORMAT, "evil": Evil()}, f, pickle_module=pickle)
    with pytest.raises(CheckpointError, match="unreadable"):
        load_state(tmp_path / "state.pt")
    assert not (tmp_path / "pwned").exists()


def test_foreign_format(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "state.pt")
    with pytest.raises(CheckpointError, match="has format None; allowed: 'gan-study-trainer/1'"):
        load_state(tmp_path / "state.pt")


def test_load_generator_rebuilds_the_trained_generator(tmp_path):
    trainer = Trainer(GANConfig.from_flat(RING))
    list(trainer.run())
    trainer.save(tmp_path / "state.pt")
    generator, cfg = load_generator(tmp_path / "state.pt")
    assert cfg == trainer.cfg and not generator.training
    z = trainer.eval_noise(5)
    with torch.no_grad():
        assert torch.equal(generator(z), trainer.sample(5))


def test_load_generator_shows_the_papers_28px_0_1_generator_in_the_evaluation_frame(tmp_path):
    flat = {"dataset": "mnist5k", "arch": "mlp", "mlp_hidden": 16, "mlp_hidden_d": 8, "image_size": 28,
            "pixel_range": "0..1", "g_output": "sigmoid", "noise": "uniform", "batch_size": 8, "steps": 2,
            "eval_every": 2}
    trainer = Trainer(GANConfig.from_flat(flat))
    list(trainer.run())
    trainer.save(tmp_path / "state.pt")
    generator, cfg = load_generator(tmp_path / "state.pt")
    z = trainer.eval_noise(5)
    with torch.no_grad():
        shown = generator(z)
    assert shown.shape == (5, 1, 32, 32)
    assert torch.equal(shown, trainer.sample(5))
