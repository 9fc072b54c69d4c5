"""The report's tables as files: one type per column, the same in the CSV and in the parquet file.

``tidy(df)`` types a frame once before it is written (the frames in memory are left as they are):
- booleans are booleans: a column of True/False is ``bool``, with missing values the nullable ``boolean``
  (``<metric>_improving``, ``improving_level``: unknown where a seed failed), never an object column of
  booleans and NaN;
- text is ``str``, an empty text is missing (a CSV cannot tell the two apart);
- text that a CSV reader reads as numbers or booleans is stored as them (a factor's level labels, ``k_level``
  1, 2, 5; ``level`` where every level is a number): what ``pandas.read_csv`` infers from the CSV is then what
  the parquet file holds;
- a column of mixed Python values (free-form keys a trainable reported) is text.

So a column has the type in the parquet file that ``pandas.read_csv`` infers from the CSV, with one exception a
CSV cannot express: a boolean column with missing values, which pandas reads as object unless told
``dtype={"col": "boolean"}`` (the parquet file holds it as ``boolean``). A column without any value is float
(missing) in both. ``csv_dtypes`` is what ``pandas.read_csv`` gives for a tidy frame's CSV, column by column.
"""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

TEXT = "str"


def _is_bool(v: object) -> bool:
    return isinstance(v, bool) or type(v).__name__ == "bool_"


def _as_csv_reads_it(text: pd.Series) -> pd.Series:
    """A text column as ``pandas.read_csv`` types it (numbers, booleans, or text), on ``text``'s index."""
    read = pd.read_csv(io.StringIO(pd.DataFrame({"v": text}).to_csv(index=False)))["v"]
    read.index = text.index
    if pd.api.types.is_bool_dtype(read) or pd.api.types.is_numeric_dtype(read):
        return read  # (a column without any value reads as float)
    values = read.dropna()
    if len(values) and all(_is_bool(v) for v in values):
        return read.astype("boolean")
    return text.astype(TEXT)


def tidy_column(s: pd.Series) -> pd.Series:
    """One column typed as the module docstring says."""
    if pd.api.types.is_bool_dtype(s) or (pd.api.types.is_numeric_dtype(s) and s.dtype != object):
        return s
    values = s.dropna()
    if len(values) and all(_is_bool(v) for v in values):
        return s.astype("boolean") if s.isna().any() else s.astype(bool)
    text = s.map(lambda v: None if v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v)
                 else str(v)).astype(object)
    return _as_csv_reads_it(text)


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every column typed (``tidy_column``)."""
    return pd.DataFrame({col: tidy_column(df[col]) for col in df.columns}, index=df.index)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    tidy(df).to_csv(path, index=False)


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    tidy(df).to_parquet(path, index=False)


def csv_dtypes(df: pd.DataFrame) -> dict[str, str]:
    """What ``pandas.read_csv`` infers for each column of the CSV of ``df`` (for checking the two files agree)."""
    return {c: str(t) for c, t in pd.read_csv(io.StringIO(tidy(df).to_csv(index=False))).dtypes.items()}
