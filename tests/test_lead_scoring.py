"""Lead scoring on the generated sample exports in seeds/ (as of 2026-10-31): one pipeline run
for the module, then cheap dbt runs on that warehouse for history and the rule check.

The points themselves are hand-worked in dbt unit tests (models/*/scoring/_scoring__unit_tests.yml),
which every `dbt build` runs; here: scores exist for every contact, they predict wins on the
sample, re-scoring a date does not duplicate history, and a rule with a misspelt attribute stops
dbt with a message naming it.
"""

import datetime as dt
import os
import re
import shutil

import duckdb
import pytest
from conftest import dbt_cli
from scoring_reference import HISTORY, change_points, engagement_errors, scores_of, state_on

from benchmarks.lead_scores_checks import engagement_differences, reference_differences
from orchestration.settings import DBT_PROJECT_DIR

AS_OF = "2026-10-31"
EARLIER = "2026-09-30"
SEEDS = DBT_PROJECT_DIR.parent / "seeds"
SCORING_MODELS = ["int_lead_engagement_sums", "int_lead_engagement", "int_lead_fit_matches",
                  "int_lead_score_parts", "lead_scores", "lead_score_history"]


@pytest.fixture(scope="module")
def warehouse(seeds_build, tmp_path_factory):
    """The warehouse `salespipe run` built from seeds/ (a private copy)."""
    assert seeds_build.result.returncode == 0, seeds_build.result.stderr[-3000:]
    return seeds_build.copy_to(tmp_path_factory.mktemp("lead_scoring"))


def query(path, sql, params=None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def dbt(path, target, *args, as_of=None):
    """The dbt command line against `path`. A subprocess, so no DuckDB connection stays open in
    the test process; its own target folder, so the project's stays as it is. The scoring date
    goes through SALESPIPE_AS_OF, as the nightly run passes it: a change of --vars would make
    dbt parse the whole project again."""
    env = {**os.environ, "SALESPIPE_WAREHOUSE": str(path),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "SALESPIPE_AS_OF": as_of or AS_OF}
    return dbt_cli(list(args), target, env)


@pytest.fixture(scope="module")
def rescored(warehouse):
    """A copy of the warehouse scored as of EARLIER, then as of AS_OF again (the pipeline's date:
    its history rows are replaced, now compared with EARLIER's), with the same path and target
    folder, so the second dbt call (and test_rule_...) reuse dbt's parse state. Also returns
    each night's lead_scores, read right after that night's run."""
    copy, target = warehouse.with_name("rescored.duckdb"), warehouse.parent / "target"
    shutil.copy(warehouse, copy)
    nights = []
    for day in (EARLIER, AS_OF):
        result = dbt(copy, target, "run", "--select", *SCORING_MODELS, as_of=day)
        assert result.returncode == 0, result.stdout
        con = duckdb.connect(str(copy), read_only=True)
        nights.append((dt.date.fromisoformat(day), scores_of(con)))
        con.close()
    return copy, target, nights


def test_every_contact_scored_and_followups_consistent(warehouse):
    contacts = query(warehouse, "select count(*) from marts.dim_contacts")[0][0]
    assert query(warehouse, "select count(*) from marts.lead_scores")[0][0] == contacts
    bad = query(warehouse, """
        select contact_id from marts.lead_scores
        where abs(total_score - fit_score - engagement_score) > 1e-9
           or is_sales_ready <> (total_score >= 60) or scored_as_of <> date '2026-10-31'""")
    assert bad == []
    ready = query(warehouse, "select count(*) from marts.lead_scores where is_sales_ready")[0][0]
    followups = query(warehouse, "select contact_id from marts.sales_ready_followups")
    assert 0 < len(followups) < ready
    # nobody listed is the primary contact of an open deal or is not sales-ready
    wrong = query(warehouse, """
        select f.contact_id from marts.sales_ready_followups f
        join marts.lead_scores s using (contact_id)
        where not s.is_sales_ready or f.contact_id in (
            select primary_contact_id from marts.fct_deals where outcome = 'open')""")
    assert wrong == []


def test_scores_equal_the_reference_ranking_every_reason(warehouse, rescored):
    """lead_scores, a projection of int_lead_score_parts, equals the SQL that ranked every fit
    match and engagement row (benchmarks/lead_scores_reference.sql), and the view
    int_lead_engagement, read from the parts, the table SQL it replaced: as the pipeline built it,
    and after re-scoring an earlier date (the sums rebuilt with another epoch, every contact's
    parts recomputed) and the pipeline's date again (parts of the contacts that changed)."""
    for path in (warehouse, rescored[0]):
        con = duckdb.connect(str(path), read_only=True)
        try:
            only_model, only_reference, rows = reference_differences(con)
            engagement = engagement_differences(con)
        finally:
            con.close()
        assert (only_model, only_reference) == (0, 0) and rows > 0, (path, only_model, only_reference)
        assert engagement[:2] == (0, 0) and engagement[2] > 0, (path, engagement)


def win_rates(warehouse, dimension, min_contacts):
    return query(warehouse, """
        select band, win_rate from marts.lead_score_calibration
        where dimension = ? and closed_contacts >= ? order by band_min_score""",
                 [dimension, min_contacts])


def test_higher_bands_win_more_often_on_sample(warehouse):
    for dimension in ("grade", "score_band"):
        rates = win_rates(warehouse, dimension, 5)
        assert len(rates) >= 3, rates
        assert [r[1] for r in rates] == sorted(r[1] for r in rates), rates
        assert rates[-1][1] - rates[0][1] >= 0.3, rates  # the score separates, not just orders


def test_calibration_says_so_when_the_outcomes_disagree_with_the_rules(warehouse, tmp_path):
    """The sample's winners are picked by the fit the rules reward, so the test above holds by
    construction. With every closed deal's outcome swapped, the score ranks leads against
    their outcomes: the calibration's win rates fall with the band and its warn test fires."""
    mine, target = tmp_path / "swapped.duckdb", tmp_path / "target"
    shutil.copy(warehouse, mine)
    con = duckdb.connect(str(mine))
    con.execute("update marts.fct_deals set outcome = case outcome when 'won' then 'lost' "
                "else 'won' end where outcome in ('won', 'lost')")
    con.close()
    result = dbt(mine, target, "build", "--select", "lead_score_calibration")
    assert result.returncode == 0, result.stdout  # a warning, not a failed run
    assert re.search(r"WARN \d+ lead_score_calibration_higher_bands_win_more_often|"
                     r"WARN \d+ higher_bands_win_more_often_lead_score_calibration",
                     result.stdout), result.stdout[-3000:]
    rates = [rate for _, rate in win_rates(mine, "grade", 5)]
    assert len(rates) >= 3 and rates[0] > rates[-1], rates  # the top grade wins least


def test_history_keeps_the_changes_of_each_night(rescored):
    """After two nights (the pipeline's date scored again after an earlier one), the history
    holds exactly the change points of the two nights' full lead_scores: every contact on its
    first date, then only the contacts whose grade or readiness changed, with that night's
    scores; the pipeline's rows for AS_OF are replaced, not duplicated."""
    copy, _, nights = rescored
    con = duckdb.connect(str(copy), read_only=True)
    try:
        history = con.execute(HISTORY).fetchall()
        assert state_on(con, AS_OF) == {c: s[3:] for c, s in nights[-1][1].items()}
    finally:
        con.close()
    assert len(history) == len(set(history))
    assert set(history) == change_points(nights)
    contacts = len(nights[0][1])
    changed = sum(1 for row in history if row[1] == nights[-1][0])
    assert 0 < changed < contacts / 4  # a month of decay and activity moves some grades, not all


def test_engagement_kept_as_sums_equals_the_direct_decay(warehouse, rescored):
    """Engagement read from the sums that do not decay equals the direct sum of points x
    0.5^(age / half-life) over every activity (relative error below 1e-9): after the
    pipeline's first build, and after the two nights of the fixture, the first of which
    rebuilt the sums (an earlier as-of date, a new epoch) while the second updated only the
    holders with activities dated since."""
    copy, _, _nights = rescored
    for path in (warehouse, copy):
        con = duckdb.connect(str(path), read_only=True)
        try:
            only_one, differ, worst, rows = engagement_errors(con, AS_OF)
            held = con.execute("select epoch_day::varchar, covered_through::varchar, count(*) "
                               "from intermediate.int_lead_engagement_sums group by all "
                               "order by all").fetchall()
        finally:
            con.close()
        assert (only_one, differ) == (0, 0) and rows > 1000 and worst < 1e-9, (worst, rows)
    assert [h[:2] for h in held] == [(EARLIER, EARLIER), (EARLIER, AS_OF)], held
    assert 0 < held[1][2] < held[0][2] + held[1][2]  # some holders kept EARLIER's rows


def test_history_retention_keeps_what_the_last_n_days_need(rescored, tmp_path):
    """var lead_score_history_days: N deletes the rows that are no longer needed to know any
    contact's state in the last N days up to the run's as-of date: a contact keeps its latest
    row from before them. The same runs change the half-life: the engagement sums rebuild
    themselves with it (a new epoch), and engagement equals the direct decay with it."""
    copy, _, _nights = rescored
    mine, target = tmp_path / "retention.duckdb", tmp_path / "target"
    shutil.copy(copy, mine)
    later = "2026-11-30"

    def score_with(days):
        result = dbt(mine, target, "run", "--select", *SCORING_MODELS, "--vars",
                     f'{{"lead_score_history_days": {days}, "lead_score_half_life_days": 15}}',
                     as_of=later)
        con = duckdb.connect(str(mine), read_only=True)
        try:
            states = {day: state_on(con, day) for day in (AS_OF, later)}
            states["engagement"] = engagement_errors(con, later, half_life=15)
            states["epochs"] = con.execute(
                "select distinct epoch_day::varchar, covered_through::varchar "
                "from intermediate.int_lead_engagement_sums").fetchall()
            per_date = dict(con.execute("select scored_as_of::varchar, count(*) "
                                        "from marts.lead_score_history group by 1").fetchall())
        finally:
            con.close()
        return result, states, per_date

    con = duckdb.connect(str(mine), read_only=True)
    contacts = con.execute("select count(*) from marts.dim_contacts").fetchone()[0]
    changed = con.execute("select count(*) from marts.lead_score_history "
                          "where scored_as_of = ?", [AS_OF]).fetchone()[0]
    on_as_of = state_on(con, AS_OF)
    con.close()
    # a night later, keeping one day: the cut-off is the eve of that night, so EARLIER's row
    # goes where the contact has a newer one (from AS_OF); what any day from the cut-off on
    # reads stays the same
    result, states, per_date = score_with(1)
    assert result.returncode == 0, result.stdout
    assert per_date[EARLIER] == contacts - changed > 0 and per_date[AS_OF] == changed
    assert states[AS_OF] == on_as_of and len(states[later]) == contacts
    only_one, differ, worst, _rows = states["engagement"]
    assert (only_one, differ) == (0, 0) and worst < 1e-9, states["engagement"]
    assert states["epochs"] == [(later, later)]  # rebuilt: every holder, a new epoch
    # a value that is not a number of days stops dbt, naming the var and where to fix it
    result, _, after = score_with(-3)
    assert result.returncode != 0
    assert "var lead_score_history_days must be 0" in result.stdout, result.stdout
    assert "dbt_project.yml" in result.stdout and after == per_date


def test_a_rule_on_an_attribute_no_rule_named_before_fires_on_the_next_run(rescored):
    # int_lead_fit_matches unpivots only the attributes the rules name, read from the seed
    # while the model runs: a saved parse state (same target folder) must not freeze that list.
    copy, target, _nights = rescored
    named = {r[0] for r in query(copy, "select lower(attribute) from config.lead_score_fit_rules")}
    assert "source_system" not in named and "company" not in named  # new to the rules
    con = duckdb.connect(str(copy))
    con.execute("insert into config.lead_score_fit_rules values "
                "('from_hubspot', 'source_system', 'equals', 'hubspot', 1), "
                "('company_known', 'company', 'is_set', null, 1)")
    con.close()
    try:
        result = dbt(copy, target, "run", "--select", "int_lead_fit_matches", as_of=EARLIER)
        assert result.returncode == 0, result.stdout
        fired = dict(query(copy, """select rule_id, count(*) from intermediate.int_lead_fit_matches
            where rule_id in ('from_hubspot', 'company_known') group by 1"""))
        expected = query(copy, """select count(*) filter (where source_system = 'hubspot'),
            count(*) filter (where nullif(trim(company), '') is not null)
            from marts.dim_contacts""")[0]
        assert (fired.get("from_hubspot"), fired.get("company_known")) == expected
        assert min(expected) > 0
    finally:
        con = duckdb.connect(str(copy))
        con.execute("delete from config.lead_score_fit_rules "
                    "where rule_id in ('from_hubspot', 'company_known')")
        con.close()


def test_rule_with_unknown_attribute_fails_naming_it(rescored):
    copy, target, _nights = rescored
    con = duckdb.connect(str(copy))
    con.execute("insert into config.lead_score_fit_rules "
                "values ('industry_typo', 'industy', 'equals', 'Retail', 5)")
    con.close()
    try:
        result = dbt(copy, target, "run", "--select", "int_lead_fit_matches", as_of=EARLIER)
    finally:  # the copy is the module's: a later test must not meet the bad rule
        con = duckdb.connect(str(copy))
        con.execute("delete from config.lead_score_fit_rules where rule_id = 'industry_typo'")
        con.close()
    assert result.returncode != 0
    assert "rule 'industry_typo' names attribute 'industy'" in result.stdout, result.stdout


def test_history_uniqueness_is_tested_on_the_runs_scoring_date(rescored, tmp_path):
    """The unique test of lead_score_history reads only the run's date (__as_of_date__ in its
    `where`, macros/test_where.sql), so its cost does not grow with the nights kept."""
    copy, _, _nights = rescored
    mine, target = tmp_path / "duplicates.duckdb", tmp_path / "target"
    shutil.copy(copy, mine)

    def duplicate_a_row_of(day):
        con = duckdb.connect(str(mine))
        con.execute("insert into marts.lead_score_history select * from "
                    "marts.lead_score_history where scored_as_of = ? limit 1", [day])
        con.close()
        return dbt(mine, target, "test", "--select", "lead_score_history", as_of=AS_OF)

    # a duplicate on another date was there when that date's run tested it: not read again
    assert duplicate_a_row_of(EARLIER).returncode == 0
    result = duplicate_a_row_of(AS_OF)  # the run's own date
    assert result.returncode != 0
    assert "unique_lead_score_history_score_id" in result.stdout, result.stdout
