"""studies.option_types: an option's text -> a checked value, or argparse's error (the one-line exit 2)."""
from __future__ import annotations

import argparse

import pytest

from studies.option_types import int_list, non_negative_float, non_negative_int, positive_float, positive_int, str_list


def test_value_types():
    assert int_list("1, 2,5") == [1, 2, 5]
    assert str_list("a,b") == ["a", "b"]
    assert (positive_int("3"), non_negative_int("0"), positive_float("0.5"), non_negative_float("0")) == \
        (3, 0, 0.5, 0.0)
    for fn, text in ((int_list, "1,,2"), (int_list, "1,x"), (positive_int, "0"), (non_negative_float, "-0.5"),
                     (non_negative_int, "-1"), (positive_float, "inf"), (str_list, "a,,b")):
        with pytest.raises(argparse.ArgumentTypeError):
            fn(text)
