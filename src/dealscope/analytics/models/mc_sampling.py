"""Vectorised samplers of the Monte Carlo forecast.

The expensive part of a pipeline simulation is deciding, for every (iteration, deal), whether
the deal closes. Deals that share a closing probability are simulated together as one
Bernoulli process over `iterations x deals` slots: rare events are found by geometric gaps
(work in proportion to the closings, not to the slots), common ones by a dense comparison.
Days and value ratios are then drawn by table look-up of their inverse distribution
functions (`LUT_SIZE` entries, so probabilities are resolved to 1/65,536).
"""

from __future__ import annotations

import numpy as np

LUT_SIZE = 1 << 16
DENSE_ABOVE = 0.12  # closing probability above which a dense comparison is cheaper
SINGLE_PRECISION_ABOVE = 1e-5  # geometric gaps in float32 from here (gaps < 2**24)
DENSE_MAX_SLOTS = 8_000_000  # ... as long as its uniforms fit in 32 MB


def inverse_cdf_table(pmf: np.ndarray, size: int = LUT_SIZE) -> np.ndarray:
    """Index of the outcome for each of `size` equally likely cells: `table[u * size]`
    draws from `pmf` (normalised here; must have a positive sum)."""
    cdf = np.cumsum(pmf, dtype=np.float64)
    # Cell i (mid-point (i + 0.5) / size) belongs to the first outcome whose CDF exceeds it.
    edges = np.ceil(cdf / cdf[-1] * size - 0.5).astype(np.int64)
    edges[-1] = size
    counts = np.diff(np.concatenate(([0], np.clip(edges, 0, size))))
    return np.repeat(np.arange(len(pmf), dtype=np.int32), np.maximum(counts, 0))


def quantile_table(values: np.ndarray) -> np.ndarray:
    """The empirical quantile function of `values` at `LUT_SIZE` mid-points: drawing a
    random entry is a (linearly smoothed) bootstrap of `values`."""
    cells = (np.arange(LUT_SIZE, dtype=np.float64) + 0.5) / LUT_SIZE
    return np.quantile(np.asarray(values, dtype=np.float64), cells).astype(np.float64)


def lookup(rng: np.random.Generator, table: np.ndarray, size: int) -> np.ndarray:
    """`size` draws through a table of `LUT_SIZE` equally likely entries."""
    return table[rng.integers(0, LUT_SIZE, size=size, dtype=np.int32)]


def bernoulli_events(
    rng: np.random.Generator, iterations: int, deals: int, p: float
) -> tuple[np.ndarray, np.ndarray]:
    """The (iteration, deal) pairs that succeed when each of `iterations x deals`
    independent trials succeeds with probability `p`, ordered by iteration."""
    slots = iterations * deals
    if p <= 0.0 or slots == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    if p >= DENSE_ABOVE and slots <= DENSE_MAX_SLOTS:
        hits = np.flatnonzero(rng.random(slots, dtype=np.float32) < np.float32(p))
    else:
        hits = _geometric_hits(rng, slots, p)
    return np.divmod(hits, deals)


def _geometric_hits(rng: np.random.Generator, slots: int, p: float) -> np.ndarray:
    """Positions of successes among `slots` Bernoulli(p) trials: the gaps between successes
    are geometric, drawn by inversion (`1 + floor(log U / log(1 - p))`)."""
    log_q = np.log1p(-p)
    parts: list[np.ndarray] = []
    start = -1  # position of the last success so far
    while True:
        remaining = slots - 1 - start
        expected = remaining * p
        count = int(expected + 6.0 * np.sqrt(expected + 1.0) + 16)
        if p >= SINGLE_PRECISION_ABOVE:
            # Half the memory traffic; U's 2**-24 grain cuts the geometric tail beyond
            # 16.6 / p (a 6e-8 share of the gaps), far below 2**24.
            u = rng.random(count, dtype=np.float32)
            gaps = (np.log1p(-u) * np.float32(1.0 / log_q)).astype(np.int64) + 1
        else:
            u64 = rng.random(count)
            gaps = np.minimum(np.floor(np.log1p(-u64) / log_q), slots).astype(np.int64) + 1
        positions = start + np.cumsum(gaps)
        if positions[-1] >= slots:
            parts.append(positions[positions < slots])
            break
        parts.append(positions)
        start = int(positions[-1])
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def stretch_pmf(pmf: np.ndarray, factor: float, offset: int) -> np.ndarray:
    """`pmf` over times `offset, offset+1, ...` with every time multiplied by `factor`
    (rounded up; a cycle-time scenario), cut to the same length: mass pushed past the end
    is dropped."""
    if factor == 1.0:
        return pmf.copy()
    times = np.arange(len(pmf)) + offset
    moved = np.ceil(times * factor - 1e-9).astype(np.int64) - offset
    keep = (moved >= 0) & (moved < len(pmf))
    out = np.zeros_like(pmf)
    np.add.at(out, moved[keep], pmf[keep])
    return out
