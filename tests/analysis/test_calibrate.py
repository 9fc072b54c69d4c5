"""The calibration script writes the STATISTICS.md tables end to end."""
from analysis import calibrate
from analysis.calibrate_cells import SEEDS
from analysis.calibrate_studies import SCENARIOS


def test_main_writes_every_table(tmp_path):
    out = tmp_path / "STATISTICS.md"
    assert calibrate.main(["--reps", "40", "--study-reps", "2", "--jobs", "1", "--out", str(out)]) == 0
    text = out.read_text()
    for heading in ("## Intervals and Welch's test", "## The test over every seed where seeds fail",
                    "## Stability rates", "## Whole studies through the report code", "## What a study can detect"):
        assert heading in text
    assert "(seed 20261201, 40 repetitions a cell, 2 for whole studies)" in text
    assert text.count("\n| normal | ") == len(SEEDS)
    assert text.count("\n| normal, SD 1 against SD 4 | ") == len(SEEDS)
    for scenario in SCENARIOS:
        assert text.count(f" | {scenario} | ") == 2  # 3 and 6 seeds a variant
    for rate in ("0", "0.2", "0.5"):
        assert text.count(f"\n| 6 | {rate} | ") == 1  # the test over every seed, 6 seeds, each failure rate
