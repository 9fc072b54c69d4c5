"""analysis.tables: one type per column, the one pandas reads back from the CSV."""
import math

import numpy as np
import pandas as pd

from analysis.tables import csv_dtypes, tidy, tidy_column


def _typed(values):
    s = tidy_column(pd.Series(values, dtype=object if any(v is None for v in values) else None))
    return str(s.dtype), s.tolist()


def test_booleans_are_booleans_and_nullable_where_one_is_missing():
    assert _typed([True, False, True]) == ("bool", [True, False, True])
    dtype, values = _typed([True, None, np.bool_(False)])
    assert (dtype, values[0], values[1] is pd.NA, values[2]) == ("boolean", True, True, False)
    dtype, values = _typed([True, math.nan, False])
    assert (dtype, values[1] is pd.NA) == ("boolean", True)


def test_text_that_a_csv_reads_as_numbers_is_stored_as_numbers():
    assert _typed(["1", "2", "5"]) == ("int64", [1, 2, 5])
    assert _typed(["2e-04", "0.5"]) == ("float64", [2e-4, 0.5])
    assert _typed(["True", "False"]) == ("bool", [True, False])
    assert _typed(["k1_minimax", "1"]) == ("str", ["k1_minimax", "1"])


def test_empty_text_is_missing_and_mixed_values_are_text():
    dtype, values = _typed(["a", "", None])
    assert (dtype, values[0], [isinstance(v, float) and math.isnan(v) for v in values[1:]]) == \
        ("str", "a", [True, True])
    dtype, values = _typed(["", None])  # no value at all: missing, as pandas reads an empty CSV column
    assert dtype == "float64" and all(math.isnan(v) for v in values)
    assert _typed([{"a": 1}, 2, "x"]) == ("str", ["{'a': 1}", "2", "x"])


def test_numbers_keep_their_type():
    assert _typed([1, 2]) == ("int64", [1, 2])
    dtype, values = _typed([1.5, math.nan])
    assert dtype == "float64" and values[0] == 1.5 and math.isnan(values[1])


def test_a_tidy_frame_reads_back_from_csv_with_its_types():
    df = pd.DataFrame({"k_level": ["1", "2"], "flag": [True, False], "maybe": [True, None], "name": ["a", ""],
                       "x": [0.5, 1.0], "none": [None, None]})
    assert {c: str(t) for c, t in tidy(df).dtypes.items()} == {
        "k_level": "int64", "flag": "bool", "maybe": "boolean", "name": "str", "x": "float64", "none": "float64"}
    assert csv_dtypes(df) == {"k_level": "int64", "flag": "bool", "maybe": "object", "name": "str", "x": "float64",
                              "none": "float64"}
    assert df["k_level"].tolist() == ["1", "2"]  # the frame itself is left as it is
