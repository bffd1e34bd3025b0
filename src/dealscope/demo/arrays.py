"""Small vectorised helpers the generator builds its columns with."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

US_PER_DAY = 86_400_000_000
UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")


def lognormal(
    rng: np.random.Generator,
    median: np.ndarray | float,
    sigma: np.ndarray | float,
    size: int | tuple[int, ...],
) -> np.ndarray:
    """Draws whose median is `median` and whose log has standard deviation `sigma`."""
    return np.asarray(median) * np.exp(rng.normal(0.0, 1.0, size) * np.asarray(sigma))


def categorical(
    rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int
) -> np.ndarray:
    """Indices drawn with probability proportional to `weights` (int64)."""
    cdf = np.cumsum(np.asarray(weights, dtype=float))
    return np.searchsorted(cdf / cdf[-1], rng.random(size), side="right").astype(np.int64)


def categorical_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One index per row of a (rows, categories) weight matrix."""
    cdf = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * cdf[:, -1]
    return (cdf < u[:, None]).sum(axis=1).astype(np.int64)


def timestamps(origin_us: int, days: np.ndarray) -> pa.Array:
    """UTC timestamps for offsets in (fractional) days from `origin_us`; NaN becomes null."""
    days = np.asarray(days, dtype=float)
    missing = np.isnan(days)
    micros = origin_us + np.round(np.where(missing, 0.0, days) * US_PER_DAY).astype(np.int64)
    return pa.array(micros, type=pa.int64(), mask=missing).cast(UTC_TIMESTAMP)


def dates(origin_day: int, days: np.ndarray) -> pa.Array:
    """Dates for offsets in days from `origin_day` (days since 1970-01-01); NaN becomes null."""
    days = np.asarray(days, dtype=float)
    missing = np.isnan(days)
    whole = origin_day + np.floor(np.where(missing, 0.0, days)).astype(np.int32)
    return pa.array(whole, type=pa.int32(), mask=missing).cast(pa.date32())


def pick(values: Sequence[str | None], index: np.ndarray) -> pa.Array:
    """`values[index]` as a dictionary-encoded string column (cheap for millions of rows);
    a None in `values` gives null."""
    unique: dict[str, int] = {}
    for value in values:
        if value is not None:
            unique.setdefault(value, len(unique))
    codes = np.array([-1 if v is None else unique[v] for v in values], dtype=np.int32)
    picked = codes[np.asarray(index, dtype=np.int64)]
    indices = pa.array(picked, type=pa.int32(), mask=picked < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(unique), type=pa.string()))


def text(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string columns and literals."""
    arrays = [pc.cast(p, pa.string()) if isinstance(p, pa.Array) else p for p in parts]
    return pc.binary_join_element_wise(*arrays, "")


def digits(values: np.ndarray, width: int) -> pa.Array:
    """Integers as zero-padded decimal strings."""
    return pc.utf8_lpad(pc.cast(pa.array(values, type=pa.int64()), pa.string()), width, "0")


def floats(values: np.ndarray) -> pa.Array:
    """Floating-point values with NaN as null."""
    values = np.asarray(values, dtype=float)
    return pa.array(values, type=pa.float64(), mask=np.isnan(values))


def money(values: np.ndarray) -> pa.Array:
    """Dollar amounts rounded to the cent (loaded into DECIMAL(14, 2)); NaN as null."""
    return floats(np.round(np.asarray(values, dtype=float), 2))


def masked(values: np.ndarray, keep: np.ndarray, type_: pa.DataType) -> pa.Array:
    """`values` with null where `keep` is false."""
    return pa.array(values, type=type_, mask=~np.asarray(keep, dtype=bool))
