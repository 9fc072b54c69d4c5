"""Markdown tables and numbers for report.md, without ``tabulate`` (which pandas' ``to_markdown`` needs and the
project does not depend on): a report must be writable on any machine that ran a study."""
from __future__ import annotations

import math
from typing import Any, Sequence


def num(x: Any, digits: int = 3, signed: bool = False) -> str:
    """A number to ``digits`` significant digits (plain notation where sensible); n/a for missing/NaN."""
    if x is None:
        return "n/a"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return ("+" if signed and v > 0 else "") + ("inf" if v > 0 else "-inf")
    if v == 0:
        text = "0"
    elif 1e-3 <= abs(v) < 1e6:
        magnitude = math.floor(math.log10(abs(v)))
        if abs(float(f"{v:.{digits - 1}e}")) >= 10 ** (magnitude + 1):  # rounds up a decade: 0.0099999 -> 0.0100
            magnitude += 1
        decimals = max(0, digits - 1 - magnitude)
        text = f"{v:.{decimals}f}"
    else:
        text = f"{v:.{digits - 1}e}"
    return f"+{text}" if signed and v > 0 else text


def ci(lo: Any, hi: Any, signed: bool = False) -> str:
    """"[lo, hi]", or "no CI" when either end is missing."""
    if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)) or \
            (isinstance(hi, float) and math.isnan(hi)):
        return "no CI"
    return f"[{num(lo, signed=signed)}, {num(hi, signed=signed)}]"


def pvalue(p: Any) -> str:
    """p to two significant digits; below 0.001 as "<0.001"."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    return "<0.001" if float(p) < 1e-3 else num(float(p), digits=2)


def better_text(mode: str) -> str:
    return "lower is better" if mode == "min" else "higher is better"


def p_is(p: Any) -> str:
    """ "= 0.020", "< 0.001" or "= n/a": what follows "p" in a sentence."""
    text = pvalue(p)
    return f"< {text[1:]}" if text.startswith("<") else f"= {text}"


def pct(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    text = f"{100 * float(x):.0f}%"
    return "0%" if text == "-0%" else text


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else num(value)
    return text.replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], align_right: Sequence[bool] | None = None) -> str:
    """A GitHub-flavoured markdown table; strings go in as they are (pipes escaped), numbers through ``num``."""
    if align_right is None:
        align_right = [False] * len(header)
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "| " + " | ".join("---:" if r else "---" for r in align_right) + " |"]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"row has {len(row)} cells, header has {len(header)}")
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


def image(title: str, rel: str) -> str:
    """An inline image, ``![title](plots/x.png)``: shown, not linked, on GitHub and in an editor's preview. Square
    brackets in the title are escaped (they would end the alt text)."""
    alt = title.replace("[", r"\[").replace("]", r"\]")
    return f"![{alt}]({rel})"
