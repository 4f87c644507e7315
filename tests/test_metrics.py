"""Pipeline metrics marts on the sample exports in seeds/, checked against the same figures
computed independently in pandas from marts.fct_deals and marts.fct_deal_stage_transitions.

One pipeline run (module-scoped), as of 2026-10-31. The hand-worked edge cases (reopened,
skipped, backward, no amount, no won deal, currencies) are dbt unit tests in
dbt_project/models/marts/metrics/_metrics__unit_tests.yml, run by every `dbt build`.
"""

import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.pipeline import run_pipeline
from orchestration.settings import DBT_PROJECT_DIR

SEEDS = Path(__file__).parent.parent / "seeds"
AS_OF_END = pd.Timestamp("2026-11-01")  # the end of the as-of day 2026-10-31
METRICS_MARTS = " or ".join(
    f'+key:"marts/{name}"' for name in
    ["stage_funnel", "pipeline_metrics", "pipeline_metrics_by_owner", "pipeline_targets",
     "pipeline_daily", "forecast_accuracy"])


@pytest.fixture(scope="module")
def warehouse(seeds_build, tmp_path_factory):
    """The warehouse `salespipe run` built from seeds/ as of 2026-10-31 (a private copy)."""
    assert seeds_build.result.returncode == 0, seeds_build.result.stderr[-3000:]
    return seeds_build.copy_to(tmp_path_factory.mktemp("metrics"))


def read_daily(warehouse: Path) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select * from marts.pipeline_daily order by all").df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def tables(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = ["fct_deals", "fct_deal_stage_transitions", "dim_pipeline_stages",
                 "stage_funnel", "pipeline_metrics", "pipeline_metrics_by_owner",
                 "pipeline_targets", "pipeline_daily", "forecast_accuracy"]
        return {n: con.execute(f"select * from marts.{n}").df() for n in names}
    finally:
        con.close()


# --- the figures, recomputed in pandas -----------------------------------------------------

def deals_frame(t) -> pd.DataFrame:
    d = t["fct_deals"].copy()
    d["currency"] = d["currency"].fillna("unknown")
    d["lifetime_days"] = (d["closed_at"] - d["created_at"]).dt.total_seconds() / 86400
    return d[d["created_at"].notna()]


def open_stays(t) -> pd.DataFrame:
    stages = t["dim_pipeline_stages"][["stage_id", "is_closed"]]
    s = t["fct_deal_stage_transitions"].merge(stages, left_on="to_stage_id", right_on="stage_id")
    return s[~s["is_closed"]]


def expected_figures(deals, stays, start, end) -> dict:
    """pipeline_metrics' figures for one group of deals and one period [start, end)."""
    def within(ts):
        return ts.notna() & (ts < end) & ((ts >= start) if start is not None else True)

    closed = deals[within(deals["closed_at"])]
    won, lost = closed[closed.outcome == "won"], closed[closed.outcome == "lost"]
    open_ids = stays[stays.deal_id.isin(deals.deal_id) & (stays.entered_at < end)
                     & (stays.exited_at.isna() | (stays.exited_at >= end))].deal_id.unique()
    n_closed = len(won) + len(lost)
    win_rate = len(won) / n_closed if n_closed else None
    size = won.amount.mean() if won.amount.notna().any() else None
    cycle = won.lifetime_days.mean() if len(won) else None
    velocity = (len(open_ids) * win_rate * size / cycle
                if None not in (win_rate, size, cycle) and cycle else None)
    return {
        "deals_created": int(within(deals["created_at"]).sum()),
        "deals_won": len(won),
        "deals_lost": len(lost),
        "open_deals": len(open_ids),
        "win_rate": win_rate,
        "avg_won_deal_size": size,
        "avg_sales_cycle_days": cycle,
        "avg_deal_lifetime_days": closed.lifetime_days.mean() if n_closed else None,
        "pipeline_velocity_per_day": velocity,
    }


def assert_same(actual_row, expected: dict, label: str):
    for name, want in expected.items():
        got = actual_row[name]
        if want is None or (isinstance(want, float) and math.isnan(want)):
            assert pd.isna(got), f"{label} {name}: expected null, got {got}"
        else:
            assert got == pytest.approx(want, rel=1e-9, abs=1e-6), f"{label} {name}"


def month_bounds(period: str):
    start = pd.Timestamp(f"{period}-01")
    return start, min(start + pd.offsets.MonthBegin(1), AS_OF_END)


# --- tests -----------------------------------------------------------------------------------

def test_pipeline_metrics_match_pandas(tables):
    deals, stays, metrics = deals_frame(tables), open_stays(tables), tables["pipeline_metrics"]
    groups = [(p, c) for (p, c), _ in deals.groupby(["pipeline_id", "currency"])]
    groups += [("all", c) for c in deals.currency.unique()]
    assert len(metrics[metrics.period == "all"]) == len(groups)
    months_checked = 0
    for pipeline_id, currency in groups:
        group = deals[(deals.currency == currency)
                      & ((deals.pipeline_id == pipeline_id) if pipeline_id != "all" else True)]
        rows = metrics[(metrics.pipeline_id == pipeline_id) & (metrics.currency == currency)]
        first = group.created_at.min()
        n_months = (2026 - first.year) * 12 + 10 - first.month + 1
        assert len(rows) == n_months + 1, f"{pipeline_id} {currency}: one row per month + all"
        for _, row in rows.iterrows():
            start, end = (None, AS_OF_END) if row.period == "all" else month_bounds(row.period)
            assert_same(row, expected_figures(group, stays, start, end),
                        f"{pipeline_id} {currency} {row.period}")
            months_checked += 1
    assert months_checked > 150  # every month of every group was compared
    # the sample has EUR and USD deals: never one row mixing them
    assert set(metrics.currency) == {"EUR", "USD"}


def test_open_deals_now_match_fct_deals(tables):
    """Independent of the stage history: deals open now per pipeline (fct_deals.outcome)."""
    d = deals_frame(tables)
    now = d[d.outcome == "open"].groupby(["pipeline_id", "currency"]).size()
    m = tables["pipeline_metrics"]
    m = m[(m.period == "all") & (m.pipeline_id != "all")].set_index(["pipeline_id", "currency"])
    for key, n in now.items():
        assert m.loc[key, "open_deals"] == n, key


def test_by_owner_matches_pandas(tables):
    deals, stays, by = deals_frame(tables), open_stays(tables), tables["pipeline_metrics_by_owner"]
    deals["owner_key"] = deals.owner_id.fillna("no owner")
    sample = by[(by.period == "all") & (by.pipeline_id == "all") & (by.currency == "USD")]
    assert set(sample[sample.group_type == "team"].group_id) == set(
        deals[deals.currency == "USD"].team)
    for _, row in sample.iterrows():
        col = "owner_key" if row.group_type == "owner" else "team"
        group = deals[(deals[col] == row.group_id) & (deals.currency == "USD")]
        assert_same(row, expected_figures(group, stays, None, AS_OF_END),
                    f"{row.group_type} {row.group_id}")


def test_stage_funnel_matches_pandas(tables):
    t = tables["fct_deal_stage_transitions"].merge(
        tables["dim_pipeline_stages"][["stage_id", "stage_order", "is_lost", "is_closed"]],
        left_on="to_stage_id", right_on="stage_id")
    outcome = tables["fct_deals"].set_index("deal_id").outcome
    funnel = tables["stage_funnel"].set_index("stage_id")
    for stage_id, entries in t.groupby("stage_id"):
        row = funnel.loc[stage_id]
        deals = entries.groupby("deal_id").entry_number.min()
        assert row.deals_entered == len(deals), stage_id
        stays = entries[entries.exited_at.notna()].days_in_stage
        assert row.completed_stays == len(stays)
        if len(stays):
            assert row.median_days_in_stage == pytest.approx(stays.median())
            assert row.p90_days_in_stage == pytest.approx(stays.quantile(0.9))
        if entries.is_closed.iloc[0]:
            assert pd.isna(row.conversion_to_next_rate)
            continue
        order = entries.stage_order.iloc[0]
        later = t[(t.stage_order > order) & ~t.is_lost]
        advanced = sum(
            ((later.deal_id == deal) & (later.entry_number > first)).any()
            for deal, first in deals.items())
        won = sum(outcome[deal] == "won" for deal in deals.index)
        assert row.deals_advanced == advanced, stage_id
        assert row.deals_won_after == won, stage_id
        assert row.conversion_to_next_rate == pytest.approx(advanced / len(deals))


def test_targets_follow_the_config_seed(tables):
    config = pd.read_csv(DBT_PROJECT_DIR / "seeds" / "pipeline_targets_config.csv")
    targets = tables["pipeline_targets"].set_index(["pipeline_id", "currency"])
    deals, stays = deals_frame(tables), open_stays(tables)
    assert len(targets) == len(config)
    for c in config.itertuples():
        group = deals[(deals.pipeline_id == c.pipeline_id) & (deals.currency == c.currency)]
        hist = expected_figures(group, stays, None, AS_OF_END)
        month = expected_figures(group, stays, pd.Timestamp("2026-10-01"), AS_OF_END)
        row = targets.loc[(c.pipeline_id, c.currency)]
        deals_needed = c.monthly_revenue_target / hist["avg_won_deal_size"]
        assert row.closed_deals_needed == math.ceil(deals_needed)
        assert row.leads_needed == math.ceil(deals_needed / hist["win_rate"])
        assert row.leads_needed_per_rep == math.ceil(deals_needed / hist["win_rate"] / c.reps)
        assert row.deals_won_this_month == month["deals_won"]
        won_now = group[(group.outcome == "won") & (group.closed_at >= "2026-10-01")
                        & (group.closed_at < AS_OF_END)].amount.sum()
        assert row.revenue_gap == pytest.approx(c.monthly_revenue_target - won_now)


def test_pipeline_daily_matches_pandas_on_sample_days(tables):
    daily = tables["pipeline_daily"].set_index(["pipeline_id", "currency", "day"])
    deals, stays = deals_frame(tables), open_stays(tables)
    probability = tables["dim_pipeline_stages"].set_index("stage_id").probability
    assert daily.index.get_level_values("day").max() == pd.Timestamp("2026-10-31")
    for day in ["2025-06-30", "2026-03-15", "2026-10-31"]:
        end = pd.Timestamp(day) + pd.Timedelta(days=1)
        for (pipeline_id, currency), group in deals.groupby(["pipeline_id", "currency"]):
            if group.created_at.min() >= end:
                continue
            s = stays[stays.deal_id.isin(group.deal_id) & (stays.entered_at < end)
                      & (stays.exited_at.isna() | (stays.exited_at >= end))]
            s = s.merge(group[["deal_id", "amount"]], on="deal_id")
            row = daily.loc[(pipeline_id, currency, pd.Timestamp(day))]
            assert row.open_deals == s.deal_id.nunique(), (pipeline_id, currency, day)
            if s.amount.notna().any():
                assert row.open_value == pytest.approx(s.amount.sum())
            # float even when no stay is open (an empty map keeps the ids' string dtype)
            weighted = s.amount * s.to_stage_id.map(probability).astype("float64")
            if weighted.notna().any():
                assert row.weighted_value == pytest.approx(weighted.sum())
            window = group[(group.closed_at < end)
                           & (group.closed_at >= end - pd.Timedelta(days=90))]
            trailing = expected_figures(window, stays.iloc[0:0], None, end)
            velocity = (len(s.deal_id.unique()) * trailing["win_rate"]
                        * trailing["avg_won_deal_size"] / trailing["avg_sales_cycle_days"]
                        if None not in (trailing["win_rate"], trailing["avg_won_deal_size"],
                                        trailing["avg_sales_cycle_days"]) else None)
            assert_same(row, {"pipeline_velocity_per_day": velocity},
                        f"{pipeline_id} {currency} {day}")


def test_forecast_accuracy_matches_pandas(tables):
    """Each day's 30-day forecast against the amounts won in the 30 days after it, per month."""
    daily = tables["pipeline_daily"]
    daily = daily[daily.day + pd.Timedelta(days=30) <= pd.Timestamp("2026-10-31")].copy()
    daily["forecast"] = 30 * daily.pipeline_velocity_per_day
    deals = deals_frame(tables)
    won = deals[(deals.outcome == "won") & deals.closed_at.notna()].copy()
    won["won_day"] = won.closed_at.dt.normalize()
    pairs = daily.merge(won[["pipeline_id", "currency", "won_day", "amount"]],
                        on=["pipeline_id", "currency"], how="left")
    inside = (pairs.won_day > pairs.day) & (pairs.won_day <= pairs.day + pd.Timedelta(days=30))
    pairs["amount"] = pairs.amount.where(inside, 0).fillna(0)
    daily = daily.merge(pairs.groupby(["pipeline_id", "currency", "day"], as_index=False)
                        .amount.sum().rename(columns={"amount": "actual"}))
    daily["period"] = daily.day.dt.strftime("%Y-%m")
    got = tables["forecast_accuracy"].set_index(["pipeline_id", "currency", "period"])
    assert len(got) == daily.groupby(["pipeline_id", "currency", "period"]).ngroups > 100
    for key, g in daily.groupby(["pipeline_id", "currency", "period"]):
        row, f = got.loc[key], g[g.forecast.notna()]
        error, actual = (f.forecast - f.actual), f.actual.sum()
        assert row.days_compared == len(g) and row.days_without_forecast == len(g) - len(f)
        assert_same(row, {
            "avg_forecast_amount": f.forecast.mean() if len(f) else None,
            "avg_actual_amount": f.actual.mean() if len(f) else None,
            "mean_abs_error": error.abs().mean() if len(f) else None,
            "weighted_abs_pct_error": error.abs().sum() / actual if actual else None,
            "bias": error.sum() / actual if actual else None}, str(key))


# --- stage history where the CRM gives none: the deals snapshot over three exports -----------

MAPPING = """\
source_name: crm_lite
deals:
  file: deals*.csv
  columns: {deal_id: id, stage: stage, created_at: created, amount: amount, currency: currency,
            closed_at: closed}
default_pipeline: Sales
pipelines:
  - name: Sales
    stages: [New, Qualified, Proposal, Won, Lost]
    won: [Won]
    lost: [Lost]
"""

# Three successive exports of the same deals, current stage only (no stage-entered columns).
EXPORTS = [
    ["A,New,2026-10-01,100,USD,", "B,Qualified,2026-10-02,200,USD,", "C,New,2026-10-03,300,USD,"],
    ["A,Qualified,2026-10-01,100,USD,", "B,Won,2026-10-02,200,USD,2026-10-20",
     "C,New,2026-10-03,350,USD,"],  # C: only the amount changed
    ["A,Proposal,2026-10-01,100,USD,", "B,Won,2026-10-02,200,USD,2026-10-20",
     "C,Lost,2026-10-03,350,USD,2026-10-25"],
]

# Only what the transitions need: the raw assets and models upstream of them, the snapshot
# among them; "cautious" keeps out dbt tests of models outside the selection.
UPSTREAM_OF_TRANSITIONS = '+key:"marts/fct_deal_stage_transitions"'


@pytest.fixture(scope="module")
def three_exports(tmp_path_factory):
    """Transitions and snapshot versions after each of the three runs."""
    tmp = tmp_path_factory.mktemp("snapshot")
    source, warehouse = tmp / "exports", tmp / "data" / "warehouse.duckdb"
    (source / "generic").mkdir(parents=True)
    (source / "generic" / "mapping.yml").write_text(MAPPING)
    states = []
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SALESPIPE_DATA_DIR", str(tmp / "data"))
        env.setenv("SALESPIPE_SOURCE_DIR", str(source))
        env.setenv("SALESPIPE_WAREHOUSE", str(warehouse))
        env.setenv("SALESPIPE_AS_OF", pd.Timestamp.now().date().isoformat())
        env.setenv("DBT_INDIRECT_SELECTION", "cautious")
        for rows in EXPORTS:
            (source / "generic" / "deals.csv").write_text(
                "id,stage,created,amount,currency,closed\n" + "\n".join(rows) + "\n")
            run_pipeline(selection=UPSTREAM_OF_TRANSITIONS, log_level="WARNING")
            con = duckdb.connect(str(warehouse), read_only=True)
            try:
                states.append({
                    "transitions": con.execute(
                        "select deal_id, to_stage, entered_at, direction, source "
                        "from marts.fct_deal_stage_transitions order by deal_id, entry_number"
                    ).fetchall(),
                    "versions": con.execute(
                        "select deal_id, stage_id, amount, dbt_valid_from "
                        "from snapshots.deals_snapshot order by deal_id, dbt_valid_from"
                    ).fetchall(),
                })
            finally:
                con.close()
    return states


def transitions_of(state, deal):
    return [t[1:] for t in state["transitions"] if t[0] == f"crm_lite-{deal}"]


def version_times(state, deal):
    return [v[3] for v in state["versions"] if v[0] == f"crm_lite-{deal}"]


def test_snapshot_keeps_a_version_per_change(three_exports):
    _, second, third = three_exports
    assert [len(version_times(s, "A")) for s in three_exports] == [1, 2, 3]
    assert [len(version_times(s, "B")) for s in three_exports] == [1, 2, 2]  # unchanged in 3
    # C: its amount changed (a version, no stage change), then it was lost
    assert [len(version_times(s, "C")) for s in three_exports] == [1, 2, 3]
    assert version_times(third, "A")[:2] == version_times(second, "A")


def test_transitions_inferred_from_the_snapshot(three_exports):
    first, _, third = three_exports
    created = pd.Timestamp("2026-10-01").to_pydatetime()
    # run 1: only the current stage, since creation
    assert transitions_of(first, "A") == [("New", created, "created", "current_state")]
    # runs 2 and 3: each stage change entered at the time of the run that saw it
    run2, run3 = version_times(third, "A")[1:]
    assert transitions_of(third, "A") == [
        ("New", created, "created", "current_state"),
        ("Qualified", run2, "forward", "inferred"),
        ("Proposal", run3, "forward", "inferred"),
    ]
    assert transitions_of(third, "B") == [
        ("Qualified", pd.Timestamp("2026-10-02").to_pydatetime(), "created", "current_state"),
        ("Won", version_times(third, "B")[1], "skip", "inferred"),
    ]
    # C's amount change is a snapshot version but no stage entry
    assert [t[0] for t in transitions_of(third, "C")] == ["New", "Lost"]
    assert transitions_of(third, "C")[1][2:] == ("forward", "inferred")
    assert transitions_of(third, "C")[1][1] == version_times(third, "C")[2]


def test_pipeline_daily_next_night_only_adds_days(warehouse, tables):
    """An incremental run five days later, same exports: past days stay exactly as they were."""
    before = read_daily(warehouse)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SALESPIPE_DATA_DIR", str(warehouse.parent))
        env.setenv("SALESPIPE_SOURCE_DIR", str(SEEDS))
        env.setenv("SALESPIPE_WAREHOUSE", str(warehouse))
        env.setenv("SALESPIPE_AS_OF", "2026-11-05")
        env.setenv("DBT_INDIRECT_SELECTION", "cautious")
        run_pipeline(selection='key:"marts/pipeline_daily"', log_level="WARNING")
    after = read_daily(warehouse)
    past = after[after.day <= pd.Timestamp("2026-10-31")].reset_index(drop=True)
    pd.testing.assert_frame_equal(past, before, check_exact=True)
    new_days = after[after.day > pd.Timestamp("2026-10-31")]
    assert sorted(new_days.day.unique()) == list(pd.date_range("2026-11-01", "2026-11-05"))
    assert len(new_days) == 5 * before.groupby(["pipeline_id", "currency"]).ngroups
