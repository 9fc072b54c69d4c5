"""The configuration table, docs/CONFIGURATION_TABLE.md, written from the declarations in ``gan_core.knobs``:

    python -m gan_core.knob_table > docs/CONFIGURATION_TABLE.md
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Iterable

from gan_core.knobs import ARCHS, KNOBS, Knob

HEADER = """\
<!-- Generated from gan_core/knobs.py by `python -m gan_core.knob_table > docs/CONFIGURATION_TABLE.md`;
     do not edit by hand (tests/gan_core/test_knobs.py fails when this file is stale). -->
# Configuration keys

Every key of `GANConfig`, as `gan_core.knobs` declares it. A key left out takes its default, which may depend on
the dataset and the architecture; a key that does not apply to the architecture must keep its default there;
"DCGAN guideline" gives the value that follows the guideline and, after "off:", the one that turns it off (the
ablation's variant); "population" says whether a population (several seeds in one batched run) can run a value
other than the default.

| key | type | default | allowed | arch | DCGAN guideline | population | what it does |
| --- | --- | --- | --- | --- | --- | --- | --- |
"""


def table(knobs: Iterable[Knob] = KNOBS.values()) -> str:
    """The whole file: ``HEADER`` and one row per knob, in the order of ``GANConfig``'s keys."""
    return HEADER + "".join(_row(k) for k in knobs)


def _row(k: Knob) -> str:
    guideline = "" if k.guideline is None else f"{_v(k.guideline)} (off: {_v(k.off)})"
    population = "yes" if k.population else f"only {_v(k.default)}: {k.solo_why}"
    archs = "all" if tuple(k.archs) == ARCHS else ", ".join(f"`{a}`" for a in k.archs)
    cells = [f"`{k.key}`", k.type.__name__, _default(k), _allowed(k), archs, guideline, population, k.help]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |\n"


def _default(k: Knob) -> str:
    parts = [_v(k.default)]
    for table in (k.by_dataset, k.by_arch):
        groups: dict[Any, list[str]] = {}
        for where, value in table.items():
            groups.setdefault(value, []).append(where)
        parts += [f"{', '.join(where)}: {_v(value)}" for value, where in groups.items()]
    return "; ".join(parts)


def _allowed(k: Knob) -> str:
    if k.choices:
        parts = [", ".join(_v(c) for c in k.choices)]
    elif k.rules:
        parts = [words for words, _ in k.rules]
    elif k.type is bool:
        parts = [f"{_v(True)}, {_v(False)}"]
    else:
        parts = []
    parts += [f"arch {arch}: {', '.join(_v(v) for v in values)} only" for arch, values in k.only.items()]
    parts += [k.allowed] if k.allowed else []
    return "; ".join(parts)


def _v(value: Any) -> str:
    """A value as a user writes it on the command line: ``true``, ``mnist5k``, ``0.0002``."""
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m gan_core.knob_table",
                            description="Print the configuration table (docs/CONFIGURATION_TABLE.md).").parse_args(argv)
    sys.stdout.write(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
