"""The markdown table writer (tabulate is not a dependency) and number formats."""
import math

import pytest

from analysis.markdown import ci, num, p_is, pct, pvalue, table


@pytest.mark.parametrize("x,text", [(12.345, "12.3"), (1234.5, "1234"), (0.01234, "0.0123"), (0.5, "0.500"),
                                    (-3.2, "-3.20"), (0.0099999999, "0.0100"), (99.99, "100"),
                                    (1e-5, "1.00e-05"), (0, "0"), (math.nan, "n/a"),
                                    (None, "n/a"), (math.inf, "inf")])
def test_num(x, text):
    assert num(x) == text


def test_signed_ci_pct_and_p():
    assert num(12.3, signed=True) == "+12.3" and num(-1.0, signed=True) == "-1.00"
    assert ci(8.1, 16.04, signed=True) == "[+8.10, +16.0]"
    assert ci(math.nan, 1.0) == "no CI"
    assert pct(0.6667) == "67%" and pct(math.nan) == "n/a"
    assert (pvalue(0.0004), pvalue(0.05123), pvalue(math.nan)) == ("<0.001", "0.051", "n/a")
    assert (p_is(0.0004), p_is(0.0022), p_is(math.nan)) == ("< 0.001", "= 0.0022", "= n/a")
    assert pct(-0.003) == "0%" and pct(-0.006) == "-1%"


def test_table_escapes_pipes_and_aligns():
    out = table(["a", "b|c"], [["x|y", 1.5], ["z", math.nan]], align_right=[False, True])
    assert out == "| a | b\\|c |\n| --- | ---: |\n| x\\|y | 1.50 |\n| z | n/a |"


def test_table_rejects_ragged_rows():
    with pytest.raises(ValueError, match="row has 1 cells, header has 2"):
        table(["a", "b"], [["x"]])


def test_an_image_is_shown_inline_with_its_title():
    from analysis.markdown import image

    assert image("fd curves", "plots/curves_fd.png") == "![fd curves](plots/curves_fd.png)"
    assert image("a [b]", "plots/x.png") == r"![a \[b\]](plots/x.png)"
