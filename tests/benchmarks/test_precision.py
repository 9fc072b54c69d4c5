"""benchmarks/precision.py keeps working: bf16 autocast (and channels_last) against fp32, per network."""
import math

from tests.benchmarks._load import run_quick


def test_quick_mode_times_every_setting_against_fp32_and_names_the_processors_features():
    code, lines, summary = run_quick("precision")
    assert code == 0
    assert set(summary["cpu"]) == {"processor", "avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "torch",
                                   "mkldnn_bf16_supported"}
    assert lines[0].startswith("cpu  processor=")
    assert [(r["network"], r["threads"], sorted(r["ratio_to_fp32"])) for r in summary["rows"]] == [
        ("DCGAN ngf 4", 1, ["bf16", "bf16 channels_last", "fp32 channels_last"]),
        ("ring8 MLP, batch 16", 1, ["bf16"]),
    ]
    for r in summary["rows"]:
        assert sorted(r["ms"]) == sorted(["fp32", *r["ratio_to_fp32"]]) and r["ms"]["fp32"] == r["fp32_ms"]
        for ratio in r["ratio_to_fp32"].values():
            assert ratio["runs"] == 2 and math.isfinite(ratio["median"]) and ratio["median"] > 0
