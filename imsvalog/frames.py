"""pandas DataFrames for notebooks: one row per record, sensible dtypes.

* ``time`` is a timezone-aware ``datetime64`` column in the logged offset when a
  file uses one offset throughout; when offsets are mixed the column holds aware
  Python datetimes (object dtype), since one column can carry only one zone.
* Repeated strings (``kind``, ``shape``, ``level``, ``component``, ``file``, ``rule``...) are categoricals.
* Lists (recipients, decoded bit codes, IP lists) stay lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported when a frame is built: the CLI starts faster without it
    import pandas as pd

from .readers import PathsLike, iter_log_imss, iter_maillog, iter_msgtra, iter_polevt
from .records import Record, Reject, to_row

CATEGORICAL = (
    "kind", "shape", "level", "component", "method", "file", "rule", "thread", "log_kind",
    "transaction", "status", "filter_name", "action", "conditions_code", "actions_code", "host", "program",
)


def time_column(values: list[Any]) -> pd.Series:
    """Aware datetimes to a tz-aware column when they share one offset, else keep them as objects."""
    import pandas as pd

    offsets = {v.utcoffset() for v in values if v is not None}
    if len(offsets) == 1:
        return pd.Series(pd.DatetimeIndex(values))  # None becomes NaT
    return pd.Series(values, dtype=object)


def frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame from flat rows, with the dtypes described above."""
    import pandas as pd

    rows = list(rows)
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    for col in df.columns:
        if col in CATEGORICAL:
            df[col] = df[col].astype("category")
        elif col.endswith("time"):
            # from the rows' own datetimes: pandas may already have turned None into NaT
            values = [r.get(col) for r in rows]
            if any(v is not None for v in values):
                df[col] = time_column(values)
    return df


def records_frame(items: Iterable[Record | Reject]) -> pd.DataFrame:
    """Any records (and rejects) as one DataFrame; columns are the union of the fields."""
    return frame(to_row(i) for i in items)


def read_log_imss(paths: PathsLike, rejects: list[Reject] | None = None) -> pd.DataFrame:
    """log.imss lines as a DataFrame: one row per line that parsed (rejects go to ``rejects``).

    >>> df = read_log_imss("fixtures/kb000239719")
    >>> list(df["shape"])[:2], int(df.loc[df["shape"] == "ip_list", "count"].iloc[0])
    (['rule_run', 'received_header'], 1)
    """
    return records_frame(iter_log_imss(paths, rejects))


def read_polevt(paths: PathsLike, rejects: list[Reject] | None = None) -> pd.DataFrame:
    """polevt.imss policy events as a DataFrame (``recipients``, ``conditions``, ``actions`` are lists)."""
    return records_frame(iter_polevt(paths, rejects))


def read_msgtra(paths: PathsLike, rejects: list[Reject] | None = None) -> pd.DataFrame:
    """msgtra.imss transactions as a DataFrame."""
    return records_frame(iter_msgtra(paths, rejects))


def read_maillog(paths: PathsLike, rejects: list[Reject] | None = None, tz: Any = None) -> pd.DataFrame:
    """Postfix maillog entries as a DataFrame; ``tz`` (a tzinfo) is the zone of syslog timestamps (UTC if None)."""
    return records_frame(iter_maillog(paths, rejects, tz))
