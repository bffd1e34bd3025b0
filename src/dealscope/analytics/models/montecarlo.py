"""`MonteCarloForecaster`: revenue over the next `horizon_days`, with honest uncertainty.

Two parts, both learned from the tenant's own history and simulated together:

- **Open pipeline.** A deal open on `as_of` in stage *s*, that has sat there *a* days, closes
  on future day *d* with the probability observed for past deals that were also still in *s*
  after *a* days (a "landmark" age: the largest of `landmarks` not above *a*), counted over
  windows that had fully played out before `as_of`. The closing probability is estimated for
  the deal's stage, then for its source and for its source and property type, each level
  shrunk toward the one above (`shrinkage` pseudo-deals of prior weight), so thin segments
  lean on their stage rate; the timing (day of closing, given a closing) is the stage's
  empirical distribution. Its value is its amount times a ratio drawn from what past won deals
  brought in per unit of amount (for GCI: commission rate and sale-to-amount together).
- **New business.** Leads arrive each day around a recent level times weekday and
  month-of-year factors learned from history, as over-dispersed counts: the level is
  uncertain from one simulated future to the next (its quarter-to-quarter spread) and the
  day-to-day negative binomial dispersion is carried by one gamma factor per future with the
  same variance of the horizon's total; each lead converts with the lag distribution (days
  from creation to won) observed for past leads, and brings a deal size drawn from recent
  won deals.

Times in the input frames are float days relative to the end of `as_of` in the tenant's
calendar: 0.0 is midnight after `as_of`, -1.5 is noon of the day before; future day `d` (1 is
the day after `as_of`) is the interval (d-1, d].

Scenarios scale lead volume, conversion, deal size and cycle time; `best` and `worst` come
from history: the 90th / 10th percentile of each driver over recent quarters, relative to
its mean (cycle time the other way round).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from dealscope.analytics.models import mc_sampling as sampling
from dealscope.analytics.stages import PIPELINE_STAGES, WON
from dealscope.errors import ValidationFailed

OPEN_STAGES: tuple[str, ...] = tuple(s for s in PIPELINE_STAGES if s != WON)
MAX_HORIZON_DAYS = 730
MAX_ITERATIONS = 1_000_000
DEAL_COLUMNS = (
    "deal_id",
    "created",
    "won",
    "closed",
    "amount",
    "revenue",
    "source",
    "property_type",
)
ENTRY_COLUMNS = ("deal_id", "stage", "entered", "exited")
QUARTER_DAYS = 91


def _dates(as_of: dt.date, offsets: np.ndarray) -> pd.DatetimeIndex:
    """The calendar days `offsets` days after `as_of`."""
    return pd.Timestamp(as_of) + pd.to_timedelta(offsets, unit="D")


@dataclass(frozen=True)
class Scenario:
    """Multipliers on the learned drivers; 1.0 everywhere is the expected case."""

    name: str = "expected"
    lead_volume: float = 1.0
    conversion: float = 1.0
    deal_size: float = 1.0
    cycle_time: float = 1.0

    def __post_init__(self) -> None:
        for name in ("lead_volume", "conversion", "deal_size"):
            value = getattr(self, name)
            if not 0.0 <= value <= 10.0:
                raise ValidationFailed(f"scenario {name} must be between 0 and 10, got {value}")
        if not 0.25 <= self.cycle_time <= 4.0:
            raise ValidationFailed(
                f"scenario cycle_time must be between 0.25 and 4, got {self.cycle_time}"
            )


@dataclass(frozen=True)
class MonteCarloConfig:
    horizon_days: int = 90
    lookback_days: int = 730  # history the rates are learned from
    shrinkage: float = 20.0  # prior weight, in deals, of the parent level's rate
    # Ages in a stage (days) at which reference deals are taken: dense while young, where
    # the chance of closing changes fastest.
    landmarks: tuple[int, ...] = (
        0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 14, 17, 21, 25, 30, 35, 40, 45, 52, 60, 70, 80, 90,
        105, 120, 150, 180, 240, 300, 365,
    )  # fmt: skip
    level_days: int = 91  # recent days that set the lead arrival level
    half_life_days: float | None = 120.0  # recency weighting of past deals' outcomes

    def __post_init__(self) -> None:
        if not 1 <= self.horizon_days <= MAX_HORIZON_DAYS:
            raise ValidationFailed(
                f"horizon_days must be between 1 and {MAX_HORIZON_DAYS}, got {self.horizon_days}"
            )
        if self.lookback_days < 30:
            raise ValidationFailed(f"lookback_days must be at least 30, got {self.lookback_days}")
        if self.shrinkage < 0:
            raise ValidationFailed(f"shrinkage must be >= 0, got {self.shrinkage}")
        if (
            not self.landmarks
            or self.landmarks[0] != 0
            or list(self.landmarks) != sorted(set(self.landmarks))
        ):
            raise ValidationFailed("landmarks must start at 0 and increase")

    @property
    def window_days(self) -> int:
        """Closing times are learned over twice the horizon, so faster-cycle scenarios can
        pull later closings into it."""
        return 2 * self.horizon_days


@dataclass(frozen=True)
class ForecastHistory:
    """What the forecaster learns from, seen on `as_of` (nothing later may be in it).

    deals: one row per opportunity (DEAL_COLUMNS): `created`, `won` (NaN unless won by
    `as_of`), `closed` (won or lost by `as_of`, else NaN), `amount` (its expected price),
    `revenue` (what it brought in, in the forecast's metric, for won deals), `source`,
    `property_type`. entries: one row per entry into an open stage (ENTRY_COLUMNS), with
    `exited` NaN while the deal is still in it on `as_of`."""

    as_of: dt.date
    deals: pd.DataFrame
    entries: pd.DataFrame

    def __post_init__(self) -> None:
        for name, frame, columns in (
            ("deals", self.deals, DEAL_COLUMNS),
            ("entries", self.entries, ENTRY_COLUMNS),
        ):
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ValidationFailed(f"{name} frame lacks columns: {', '.join(missing)}")
        if len(self.deals) and float(np.nanmax(self.deals["created"].to_numpy(float))) > 0:
            raise ValidationFailed("deals frame has deals created after as_of")


DAY_TABLE_SIZE = 4096  # day probabilities resolved to 1/4096
CHUNK_ITERATIONS = 10_000  # iterations simulated at once (their events stay in cache)
DAY_MASK = np.uint64(DAY_TABLE_SIZE - 1)
LOW_32 = np.uint64(0xFFFFFFFF)
THINNING_SCALE = float(1 << 32)


@dataclass(frozen=True)
class _Group:
    deals: np.ndarray  # indices of open deals
    p_max: float  # the highest of their probabilities of closing within the horizon
    accept: np.ndarray  # their probability / p_max, times 2**32
    amounts: np.ndarray  # their amounts
    thin: bool  # whether any of them is below p_max


@dataclass(frozen=True)
class _Plan:
    groups: list[_Group]
    probability: np.ndarray  # per open deal: P(closing within the horizon)
    accept: np.ndarray  # per open deal: its probability / its group's p_max, times 2**32
    rows: np.ndarray  # per open deal: its group's row of `day_tables`
    day_tables: np.ndarray  # per group: inverse CDF table of the closing day (0-based)


@dataclass
class Simulation:
    """Simulated futures: per iteration totals (pipeline and new business apart) and, for the
    first `daily.shape[0]` iterations, revenue per future day."""

    as_of: dt.date
    horizon_days: int
    scenario: Scenario
    pipeline: np.ndarray
    new_business: np.ndarray
    daily: np.ndarray
    warnings: list[str] = field(default_factory=list)

    @property
    def totals(self) -> np.ndarray:
        return self.pipeline + self.new_business


class MonteCarloForecaster:
    """Fit on a `ForecastHistory`, then `simulate(iterations, random_state, scenario)`."""

    def __init__(self, config: MonteCarloConfig | None = None) -> None:
        self.config = config or MonteCarloConfig()

    # --- fitting ---------------------------------------------------------------------

    def fit(self, history: ForecastHistory) -> MonteCarloForecaster:
        """Learn the pipeline's closing rates and timings, the value ratios and the
        new-business drivers from `history`."""
        self.as_of_ = history.as_of
        self.warnings_: list[str] = []
        deals = history.deals.reset_index(drop=True)
        entries = history.entries[history.entries["stage"].isin(OPEN_STAGES)]
        entries = entries.reset_index(drop=True)
        self._fit_values(deals)
        self._fit_pipeline(deals, entries)
        self._fit_arrivals(deals)
        self._fit_conversion(deals)
        self.scenarios_ = self._fit_scenarios(deals)
        return self

    def _fit_values(self, deals: pd.DataFrame) -> None:
        won = deals[deals["won"].notna() & deals["revenue"].notna()]
        recent = won[won["won"] > -365.0]
        if len(recent) < 20:
            recent = won
        if len(won) == 0:
            self.warnings_.append("no won deals with revenue in the history: values are 0")
            self.size_table_ = np.zeros(sampling.LUT_SIZE)
            self.ratio_table_ = np.zeros(sampling.LUT_SIZE)
            self.median_amount_ = 0.0
            return
        self.size_table_ = sampling.quantile_table(recent["revenue"].to_numpy(float))
        priced = recent[(recent["amount"] > 0) & recent["amount"].notna()]
        if len(priced) == 0:
            priced = won[(won["amount"] > 0) & won["amount"].notna()]
        if len(priced):
            ratios = priced["revenue"].to_numpy(float) / priced["amount"].to_numpy(float)
            self.ratio_table_ = sampling.quantile_table(ratios)
            self.median_amount_ = float(priced["amount"].median())
        else:  # no amounts anywhere: a deal is worth a typical won deal
            self.ratio_table_ = self.size_table_.copy()
            self.median_amount_ = 1.0

    def _landmark(self, ages: np.ndarray) -> np.ndarray:
        marks = np.asarray(self.config.landmarks)
        return np.searchsorted(marks, ages, side="right") - 1

    def _fit_pipeline(self, deals: pd.DataFrame, entries: pd.DataFrame) -> None:
        cfg = self.config
        window = cfg.window_days
        open_deals = deals[deals["closed"].isna()]
        current = entries.sort_values("entered").groupby("deal_id").tail(1).set_index("deal_id")
        stage = current["stage"].reindex(open_deals["deal_id"]).to_numpy(object, copy=True)
        entered = current["entered"].reindex(open_deals["deal_id"]).to_numpy(float, copy=True)
        no_entry = pd.isna(stage)
        stage[no_entry] = OPEN_STAGES[0]
        entered[no_entry] = open_deals["created"].to_numpy(float)[no_entry]
        amounts = open_deals["amount"].to_numpy(float)
        amounts = np.where(np.isfinite(amounts) & (amounts > 0), amounts, self.median_amount_)
        ages = np.maximum(-entered, 0.0)
        table = pd.DataFrame(
            {
                "stage": stage,
                "landmark": self._landmark(ages),
                "source": open_deals["source"].fillna("").to_numpy(object),
                "property_type": open_deals["property_type"].fillna("").to_numpy(object),
            }
        )
        keys = ["stage", "landmark", "source", "property_type"]
        cells = table.drop_duplicates(keys).reset_index(drop=True)
        self.deal_cell_ = table.merge(cells.reset_index(names="cell"), on=keys, how="left")[
            "cell"
        ].to_numpy()
        self.amounts_ = amounts
        self.open_deal_ids_ = open_deals["deal_id"].to_numpy()
        self.cells_ = cells
        self.cell_rate_ = np.zeros(len(cells))  # P(closing within the horizon)
        groups = cells[["stage", "landmark"]].drop_duplicates().reset_index(drop=True)
        self.groups_ = groups
        self.cell_group_ = cells.merge(
            groups.reset_index(names="group"), on=["stage", "landmark"], how="left"
        )["group"].to_numpy()
        # Timing over the window, given a closing, scaled to sum to 1 within the horizon.
        self.group_shape_ = np.zeros((len(groups), window))
        if len(cells) == 0:
            return
        info = entries.merge(
            deals[["deal_id", "won", "source", "property_type"]], on="deal_id", how="left"
        )
        info["source"] = info["source"].fillna("")
        info["property_type"] = info["property_type"].fillna("")
        self._fill_cells(info, cells, window)

    def _fill_cells(self, info: pd.DataFrame, cells: pd.DataFrame, window: int) -> None:
        """Closing rate of every cell and timing of every (stage, landmark) group."""
        cfg = self.config
        kappa = cfg.shrinkage
        horizon = cfg.horizon_days
        entered = info["entered"].to_numpy(float)
        exited = info["exited"].to_numpy(float)
        won = info["won"].to_numpy(float)
        codes = _SegmentCodes(info, cells)
        cell_stage = cells["stage"].to_numpy(object)
        cell_mark = cells["landmark"].to_numpy()
        for stage in cells["stage"].unique():
            in_stage = (info["stage"] == stage).to_numpy()
            prev_p: float | None = None
            prev_shape: np.ndarray | None = None
            wanted = set(cell_mark[cell_stage == stage].tolist())
            for li, mark in enumerate(cfg.landmarks):
                if li > max(wanted):
                    break
                still = ~(exited <= entered + mark)  # still in the stage at that age
                # The rate: closings within the horizon, from the freshest windows that have
                # fully played out (a changing market shows in it sooner).
                ref = in_stage & still & (entered + mark + horizon <= 0.0)
                lag = won[ref] - (entered[ref] + mark)
                closes = (lag > 0) & (lag <= horizon)
                weight = self._recency(entered[ref] + mark + horizon)
                m, wins = float(weight.sum()), float(weight[closes].sum())
                p = (
                    (wins / m if m else 0.0)
                    if prev_p is None
                    else float(_shrunk(wins, m, prev_p, kappa))
                )
                # The timing: over twice the horizon (so faster-cycle scenarios can pull later
                # closings in), scaled to 1 within the horizon.
                long = in_stage & still & (entered + mark + window <= 0.0)
                lag_long = won[long] - (entered[long] + mark)
                days = np.where((lag_long > 0) & (lag_long <= window), np.ceil(lag_long), 0)
                hist = np.bincount(
                    days.astype(np.int64),
                    weights=self._recency(entered[long] + mark + window),
                    minlength=window + 1,
                )[1:]
                inside = float(hist[:horizon].sum())
                enough = int((days > 0).sum()) >= 5 or prev_shape is None
                shape = hist / inside if inside > 0 and enough else prev_shape
                if m == 0 and li == 0:
                    self.warnings_.append(f"no history of deals in stage {stage!r}")
                prev_p, prev_shape = p, shape
                if li not in wanted or shape is None:
                    continue
                mine = np.flatnonzero((cell_stage == stage) & (cell_mark == li))
                self.cell_rate_[mine] = codes.rates(ref, closes * weight, weight, mine, p, kappa)
                self.group_shape_[self.cell_group_[mine[0]]] = shape

    def _recency(self, window_end: np.ndarray) -> np.ndarray:
        """Weights of reference windows that ended `-window_end` days before `as_of`: halved
        every `half_life_days`, so rates follow a changing market (1 without a half-life)."""
        half_life = self.config.half_life_days
        if half_life is None:
            return np.ones(len(window_end))
        return np.asarray(np.exp2(np.minimum(window_end, 0.0) / half_life))

    def _fit_arrivals(self, deals: pd.DataFrame) -> None:
        """Daily lead counts: weekday and month-of-year factors, a recent level, day-to-day
        over-dispersion and the spread of the level between quarters."""
        cfg = self.config
        created = np.ceil(deals["created"].to_numpy(float)).astype(np.int64)
        first = max(-cfg.lookback_days + 1, int(created.min()) if len(created) else 0)
        days = np.arange(first, 1)
        counts = np.bincount(created[created >= first] - first, minlength=len(days)).astype(float)
        dates = _dates(self.as_of_, days)
        weekday, month = dates.day_of_week.to_numpy(), dates.month.to_numpy()
        mean = counts.mean() if len(counts) else 0.0
        self.month_factor_ = np.ones(13)
        self.weekday_factor_ = np.ones(7)
        if mean > 0 and len(days) >= 365:
            for m in range(1, 13):
                sel = month == m
                years = sel.sum() / 30.4
                raw = counts[sel].mean() / mean if sel.any() else 1.0
                self.month_factor_[m] = (years * raw + 1.0) / (years + 1.0)
        if mean > 0 and len(days) >= 28:
            adjusted = counts / self.month_factor_[month]
            for w in range(7):
                self.weekday_factor_[w] = adjusted[weekday == w].mean() / adjusted.mean()
        factors = self.month_factor_[month] * self.weekday_factor_[weekday]
        base = counts / np.where(factors > 0, factors, 1.0)
        self.level_ = float(base[-cfg.level_days :].mean()) if len(base) else 0.0
        smooth = pd.Series(base).rolling(29, center=True, min_periods=7).mean().to_numpy()
        expected = smooth * factors
        ok = np.isfinite(expected) & (expected > 0)
        extra = np.sum((counts[ok] - expected[ok]) ** 2) - np.sum(expected[ok])
        self.dispersion_ = (
            float(np.sum(expected[ok] ** 2) / extra) if ok.any() and extra > 0 else float("inf")
        )
        blocks = [base[i : i + QUARTER_DAYS].mean() for i in range(0, len(base), QUARTER_DAYS)]
        blocks = [b for b in blocks[-8:] if b > 0]
        self.level_cv_ = float(np.std(blocks) / np.mean(blocks)) if len(blocks) >= 3 else 0.1
        self.level_cv_ = float(np.clip(self.level_cv_, 0.0, 0.5))
        future = _dates(self.as_of_, np.arange(1, cfg.horizon_days + 1))
        self.arrival_mean_ = (
            self.level_
            * self.month_factor_[future.month.to_numpy()]
            * self.weekday_factor_[future.day_of_week.to_numpy()]
        )

    def _fit_conversion(self, deals: pd.DataFrame) -> None:
        """P(won `lag` days after creation) for lags 0..window-1, from leads whose whole
        window had played out by `as_of` (created in the year before that)."""
        window = self.config.window_days
        created = deals["created"].to_numpy(float)
        cohort = (created <= -window) & (created > -window - 365)
        if cohort.sum() < 30:
            cohort = created <= -window
        self.lag_pmf_ = np.zeros(window)
        if not cohort.any():
            self.warnings_.append("too little history to learn new-business conversion")
            return
        won = deals["won"].to_numpy(float)[cohort]
        lag = np.ceil(won) - np.ceil(created[cohort])
        ok = np.isfinite(lag) & (lag >= 0) & (lag < window)
        self.lag_pmf_ = np.bincount(lag[ok].astype(np.int64), minlength=window) / cohort.sum()

    def _fit_scenarios(self, deals: pd.DataFrame) -> dict[str, Scenario]:
        """Best and worst cases from the quarter-to-quarter spread of each driver."""
        created = deals["created"].to_numpy(float)
        won = deals["won"].to_numpy(float)
        revenue = deals["revenue"].to_numpy(float)
        window = self.config.window_days
        leads, conv, size, cycle = [], [], [], []
        for q in range(8):
            hi, lo = -q * QUARTER_DAYS, -(q + 1) * QUARTER_DAYS
            made = (created > lo) & (created <= hi)
            if made.sum() >= 10:
                leads.append(made.sum())
            closed = (won > lo) & (won <= hi) & np.isfinite(revenue)
            if closed.sum() >= 5:
                size.append(np.mean(revenue[closed]))
                cycle.append(np.median(won[closed] - created[closed]))
            if hi <= -window and made.sum() >= 10:
                conv.append(np.mean(np.isfinite(won[made]) & (won[made] - created[made] <= window)))

        def spread(values: list[float], upper: bool) -> float:
            arr = np.asarray(values, dtype=float)
            if len(arr) < 3 or arr.mean() <= 0:
                return 1.1 if upper else 0.9
            return float(np.clip(np.quantile(arr, 0.9 if upper else 0.1) / arr.mean(), 0.5, 1.5))

        return {
            "expected": Scenario(),
            "best": Scenario(
                "best",
                spread(leads, True),
                spread(conv, True),
                spread(size, True),
                spread(cycle, False),
            ),
            "worst": Scenario(
                "worst",
                spread(leads, False),
                spread(conv, False),
                spread(size, False),
                spread(cycle, True),
            ),
        }

    # --- simulation ------------------------------------------------------------------

    def scenario(self, name: str = "expected", **overrides: float | None) -> Scenario:
        """The named scenario (expected, best, worst) with any driver overridden."""
        if name not in self.scenarios_:
            raise ValidationFailed(
                f"unknown scenario {name!r}; choose one of {', '.join(self.scenarios_)}"
            )
        given = {k: float(v) for k, v in overrides.items() if v is not None}
        base = self.scenarios_[name]
        return replace(base, name=name if not given else f"{name} (custom)", **given)

    def simulate(
        self,
        iterations: int = 10_000,
        random_state: int | np.random.Generator | None = None,
        scenario: Scenario | None = None,
        daily_iterations: int = 50_000,
    ) -> Simulation:
        """`iterations` simulated futures. Per-day revenue is kept for the first
        `daily_iterations` of them (quantiles of days, weeks and months come from those;
        totals from all)."""
        if not 1 <= iterations <= MAX_ITERATIONS:
            raise ValidationFailed(
                f"iterations must be between 1 and {MAX_ITERATIONS:,}, got {iterations}"
            )
        rng = np.random.default_rng(random_state)
        scenario = scenario or Scenario()
        horizon = self.config.horizon_days
        kept = min(iterations, daily_iterations)
        daily = np.zeros((kept, horizon))
        pipeline = np.zeros(iterations)
        new_business = np.zeros(iterations)
        plan = self._plan(scenario)
        lags = sampling.stretch_pmf(
            np.minimum(self.lag_pmf_ * scenario.conversion, 1.0), scenario.cycle_time, 0
        )
        chunk = max(1, min(iterations, CHUNK_ITERATIONS, 2_000_000 // horizon))
        for start in range(0, iterations, chunk):
            n = min(chunk, iterations - start)
            keep = max(0, min(n, kept - start))
            p_it, p_day, p_value = self._pipeline_events(rng, n, plan, scenario, keep > 0)
            n_it, n_day, n_value = self._new_events(rng, n, lags, scenario)
            if keep:
                pipeline[start : start + n] = np.bincount(p_it, weights=p_value, minlength=n)
            else:  # per-iteration totals already
                pipeline[start : start + n] = p_value
            new_business[start : start + n] = np.bincount(n_it, weights=n_value, minlength=n)
            if keep:
                _add_daily(
                    daily[start : start + keep],
                    np.concatenate([p_it, n_it]),
                    np.concatenate([p_day, n_day]),
                    np.concatenate([p_value, n_value]),
                    horizon,
                )
        return Simulation(
            self.as_of_, horizon, scenario, pipeline, new_business, daily, list(self.warnings_)
        )

    def _plan(self, scenario: Scenario) -> _Plan:
        """What the pipeline simulation needs under `scenario` (kept per scenario)."""
        plans: dict[Scenario, _Plan] = self.__dict__.setdefault("_plans", {})
        if scenario not in plans:
            plans[scenario] = self._pipeline_plan(scenario)
        return plans[scenario]

    def _pipeline_plan(self, scenario: Scenario) -> _Plan:
        """Per open deal: its probability of closing within the horizon under `scenario` and
        its (stage, landmark) group's day table; deals in bands of probabilities within a
        factor 0.8 of each other (so thinning wastes at most a fifth of the candidates),
        each band with its highest probability and each deal with the share it keeps."""
        horizon = self.config.horizon_days
        deal_group = self.cell_group_[self.deal_cell_] if len(self.deal_cell_) else self.deal_cell_
        rate = np.minimum(self.cell_rate_[self.deal_cell_] * scenario.conversion, 1.0)
        probability = np.zeros(len(self.amounts_))
        accept = np.zeros(len(self.amounts_), dtype=np.uint64)
        rows = np.zeros(len(self.amounts_), dtype=np.int64)
        tables: list[np.ndarray] = []
        for group in range(len(self.groups_)):
            timing = sampling.stretch_pmf(self.group_shape_[group], scenario.cycle_time, 1)
            timing = timing[:horizon]
            mass = float(timing.sum())
            deals = np.flatnonzero(deal_group == group)
            p = np.minimum(rate[deals] * mass, 1.0)
            if mass <= 0.0 or not np.any(p > 0):
                continue
            probability[deals] = p
            rows[deals] = len(tables)
            tables.append(sampling.inverse_cdf_table(timing, DAY_TABLE_SIZE))
        groups: list[_Group] = []
        active = np.flatnonzero(probability > 0)
        # Below 1e-4 one band: such deals yield almost no candidates, whatever the waste.
        floor = np.maximum(probability[active], 1e-4)
        band = np.floor(np.log(floor) / np.log(0.8)).astype(np.int64)
        for level in np.unique(band):
            members = active[band == level]
            p_max = float(probability[members].max())
            share = np.round(probability[members] / p_max * THINNING_SCALE).astype(np.uint64)
            accept[members] = share
            thin = bool(np.any(share < np.uint64(THINNING_SCALE)))
            groups.append(_Group(members, p_max, share, self.amounts_[members], thin))
        day_tables = np.array(tables, dtype=np.int16).reshape(len(tables), DAY_TABLE_SIZE)
        return _Plan(groups, probability, accept, rows, day_tables)

    def _pipeline_events(
        self, rng: np.random.Generator, n: int, plan: _Plan, scenario: Scenario, days: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Closings of open deals in `n` iterations as (iteration, day, value): candidates
        at the group's highest probability, each kept with the deal's own probability over
        it (thinning). One 64-bit draw per candidate decides the thinning (32 bits), the
        day (12 bits) and the value ratio (16 bits). Without `days` (iterations beyond those
        whose days are kept) it returns only the per-iteration totals, as the third item."""
        if not days:  # totals only: per band, rejected candidates weigh 0
            totals = np.zeros(n)
            for group in plan.groups:
                it, which = sampling.bernoulli_events(rng, n, len(group.deals), group.p_max)
                bits = rng.bit_generator.random_raw(len(it))
                value = group.amounts[which] * self.ratio_table_[bits >> np.uint64(48)]
                if group.thin:
                    value *= (bits & LOW_32) < group.accept[which]
                totals += np.bincount(it, weights=value, minlength=n)
            if scenario.deal_size != 1.0:
                totals *= scenario.deal_size
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), totals
        its, deals = [], []
        for group in plan.groups:
            it, which = sampling.bernoulli_events(rng, n, len(group.deals), group.p_max)
            its.append(it)
            deals.append(group.deals[which])
        if not its:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, np.empty(0)
        it, deal = np.concatenate(its), np.concatenate(deals)
        bits = rng.bit_generator.random_raw(len(it))
        keep = (bits & LOW_32) < plan.accept[deal]
        it, deal, bits = it[keep], deal[keep], bits[keep]
        value = self.amounts_[deal] * self.ratio_table_[bits >> np.uint64(48)]
        if scenario.deal_size != 1.0:
            value *= scenario.deal_size
        day = plan.day_tables[plan.rows[deal], (bits >> np.uint64(32)) & DAY_MASK]
        return it, day.astype(np.int64), value

    def _level_draws(self, rng: np.random.Generator, n: int, rate: np.ndarray) -> np.ndarray:
        """Per iteration, a multiplier (mean 1) of the new-business rate: the uncertain
        level (CV `level_cv_`) times the day-to-day over-dispersion of arrivals, carried as
        one gamma per iteration with the variance it gives the horizon's total (for a
        negative binomial of shape k per day: shape k (sum mu)^2 / sum mu^2)."""
        cv2 = self.level_cv_**2
        if np.isfinite(self.dispersion_) and rate.sum() > 0:
            shape = self.dispersion_ * rate.sum() ** 2 / float(np.sum(rate**2))
            cv2 = (1 + cv2) * (1 + 1 / shape) - 1  # product of independent mean-1 factors
        if cv2 <= 0:
            return np.ones(n)
        return rng.gamma(1.0 / cv2, cv2, size=n)

    def _new_events(
        self, rng: np.random.Generator, n: int, lags: np.ndarray, scenario: Scenario
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Closings of leads yet to arrive in `n` iterations as (iteration, day, value)."""
        horizon = self.config.horizon_days
        reach = np.cumsum(lags[:horizon])  # P(close within k days of arriving), k = 0..
        if reach[-1] <= 0.0 or self.level_ <= 0.0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, np.empty(0)
        # A lead arriving on day t (0-based) must close within horizon-1-t days; thinning
        # the arrivals by that keeps them Poisson (or gamma-mixed Poisson).
        reachable = reach[horizon - 1 - np.arange(horizon)]
        rate = self.arrival_mean_ * scenario.lead_volume * reachable
        if rate.sum() <= 0.0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, np.empty(0)
        level = self._level_draws(rng, n, rate)
        it = np.repeat(np.arange(n), rng.poisson(level * rate.sum()))
        arrival_day = sampling.lookup(rng, sampling.inverse_cdf_table(rate), len(it))
        u = rng.random(len(it)) * reachable[arrival_day]
        lag = np.searchsorted(reach, u, side="right")
        value = sampling.lookup(rng, self.size_table_, len(it)) * scenario.deal_size
        return it, arrival_day + lag, value


def _add_daily(
    daily: np.ndarray, it: np.ndarray, day: np.ndarray, value: np.ndarray, horizon: int
) -> None:
    """Add each event's `value` to `daily[it, day]` for the iterations `daily` keeps."""
    keep = daily.shape[0]
    if not keep:
        return
    if len(it) and it.max() >= keep:
        inside = it < keep
        it, day, value = it[inside], day[inside], value[inside]
    flat = daily.reshape(-1)  # a view: `daily` is a contiguous block of rows
    flat += np.bincount(it * horizon + day, weights=value, minlength=keep * horizon)


def _shrunk(
    wins: np.ndarray | float, m: np.ndarray | float, prior: np.ndarray | float, kappa: float
) -> np.ndarray | float:
    """(wins + kappa * prior) / (m + kappa): the rate pulled toward `prior` by `kappa`
    pseudo-observations (the prior alone where there are no observations)."""
    m_arr = np.asarray(m, dtype=float)
    safe = np.where(m_arr + kappa > 0, m_arr + kappa, 1.0)
    out = np.where(m_arr + kappa > 0, (np.asarray(wins) + kappa * np.asarray(prior)) / safe, prior)
    return float(out) if out.ndim == 0 else out


class _SegmentCodes:
    """Sources and property types of stage entries and of cells as integer codes, so
    segment counts are `bincount`s."""

    def __init__(self, info: pd.DataFrame, cells: pd.DataFrame) -> None:
        sources = pd.Index(pd.concat([info["source"], cells["source"]]).unique())
        kinds = pd.Index(pd.concat([info["property_type"], cells["property_type"]]).unique())
        self.n_source, self.n_kind = len(sources), len(kinds)
        self.source = sources.get_indexer(info["source"])
        self.both = self.source * self.n_kind + kinds.get_indexer(info["property_type"])
        self.cell_source = sources.get_indexer(cells["source"])
        self.cell_both = self.cell_source * self.n_kind + kinds.get_indexer(cells["property_type"])

    def rates(
        self,
        ref: np.ndarray,
        win: np.ndarray,
        weight: np.ndarray,
        cells: np.ndarray,
        stage_p: float,
        kappa: float,
    ) -> np.ndarray:
        """Rates of `cells`: the stage rate, shrunk toward by source, then by source and
        property type, from the reference entries `ref` (with `win` flags)."""
        src = self.source[ref]
        both = self.both[ref]
        n = self.n_source
        m_src = np.bincount(src, weights=weight, minlength=n)
        w_src = np.bincount(src, weights=win, minlength=n)
        m_both = np.bincount(both, weights=weight, minlength=n * self.n_kind)
        w_both = np.bincount(both, weights=win, minlength=n * self.n_kind)
        cs, cb = self.cell_source[cells], self.cell_both[cells]
        by_source = _shrunk(w_src[cs], m_src[cs], stage_p, kappa)
        return np.asarray(_shrunk(w_both[cb], m_both[cb], by_source, kappa))
