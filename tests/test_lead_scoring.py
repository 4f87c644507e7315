"""Lead scoring on the generated sample exports in seeds/ (as of 2026-10-31): one pipeline run
for the module, then cheap dbt runs on that warehouse for history and the rule check.

The points themselves are hand-worked in dbt unit tests (models/*/scoring/_scoring__unit_tests.yml),
which every `dbt build` runs; here: scores exist for every contact, they predict wins on the
sample, re-scoring a date does not duplicate history, and a rule with a misspelt attribute stops
dbt with a message naming it.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import DBT_PROJECT_DIR

AS_OF = "2026-10-31"
EARLIER = "2026-09-30"
EARLIER_VARS = f'{{"as_of": "{EARLIER}"}}'
SEEDS = DBT_PROJECT_DIR.parent / "seeds"
SCORING_MODELS = ["int_lead_engagement", "int_lead_fit_matches", "lead_scores", "lead_score_history"]


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


def dbt(path, target, *args):
    """The dbt command line against `path`. A subprocess, so no DuckDB connection stays open in
    the test process; its own target folder, so the project's stays as it is."""
    dbt_cli = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "SALESPIPE_WAREHOUSE": str(path),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(
        [str(dbt_cli), *args, "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target)],
        env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def rescored(warehouse):
    """A copy of the warehouse re-scored twice as of EARLIER with the same dbt vars, path and
    target folder, so the second dbt call (and test_rule_...) reuse dbt's partial parse."""
    copy, target = warehouse.with_name("rescored.duckdb"), warehouse.parent / "target"
    shutil.copy(warehouse, copy)
    for _ in range(2):
        result = dbt(copy, target, "run", "--select", *SCORING_MODELS, "--vars", EARLIER_VARS)
        assert result.returncode == 0, result.stdout
    return copy, target


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
    result = dbt(mine, target, "build", "--select", "lead_score_calibration",
                 "--vars", f'{{"as_of": "{AS_OF}"}}')
    assert result.returncode == 0, result.stdout  # a warning, not a failed run
    assert re.search(r"WARN \d+ lead_score_calibration_higher_bands_win_more_often|"
                     r"WARN \d+ higher_bands_win_more_often_lead_score_calibration",
                     result.stdout), result.stdout[-3000:]
    rates = [rate for _, rate in win_rates(mine, "grade", 5)]
    assert len(rates) >= 3 and rates[0] > rates[-1], rates  # the top grade wins least


def test_history_keeps_dates_and_rescoring_a_date_does_not_duplicate(rescored):
    copy, _ = rescored
    contacts = query(copy, "select count(*) from marts.dim_contacts")[0][0]
    per_date = query(copy, """select scored_as_of::varchar, count(*), count(distinct contact_id)
        from marts.lead_score_history group by 1 order by 1""")
    # the pipeline's date is kept; the earlier one, scored twice, is there once
    assert per_date == [(EARLIER, contacts, contacts), (AS_OF, contacts, contacts)]
    differ = query(copy, """select count(*) from marts.lead_score_history h
        join marts.lead_scores s on s.contact_id = h.contact_id and s.scored_as_of = h.scored_as_of
        where h.total_score <> s.total_score""")[0][0]
    assert differ == 0
    # a month earlier, engagement differs (activity since then, decay)
    changed = query(copy, """select count(*) from marts.lead_score_history a
        join marts.lead_score_history b on a.contact_id = b.contact_id
        where a.scored_as_of = ? and b.scored_as_of = ?
          and a.engagement_score <> b.engagement_score""", [EARLIER, AS_OF])[0][0]
    assert changed > 0


def test_history_retention_keeps_the_last_n_days_of_scoring_dates(rescored, tmp_path):
    """var lead_score_history_days: N keeps the scoring dates of the last N days up to the
    run's as-of date (the post-hook deletes older ones); 0, the default, keeps every date."""
    copy, _ = rescored
    mine, target = tmp_path / "retention.duckdb", tmp_path / "target"
    shutil.copy(copy, mine)

    def rescore_as_of_with(days):
        result = dbt(mine, target, "run", "--select", *SCORING_MODELS, "--vars",
                     f'{{"as_of": "{AS_OF}", "lead_score_history_days": {days}}}')
        dates = query(mine, "select distinct scored_as_of::varchar from "
                            "marts.lead_score_history order by 1")
        return result, [d for (d,) in dates]

    assert query(mine, "select count(distinct scored_as_of) from marts.lead_score_history"
                 )[0][0] == 2
    # EARLIER is 31 days before AS_OF: just outside a 31-day window
    result, dates = rescore_as_of_with(31)
    assert result.returncode == 0, result.stdout
    assert dates == [AS_OF]
    # a value that is not a number of days stops dbt, naming the var and where to fix it
    result, dates = rescore_as_of_with(-3)
    assert result.returncode != 0
    assert "var lead_score_history_days must be 0" in result.stdout, result.stdout
    assert "dbt_project.yml" in result.stdout and dates == [AS_OF]


def test_a_rule_on_an_attribute_no_rule_named_before_fires_on_the_next_run(rescored):
    # int_lead_fit_matches unpivots only the attributes the rules name, read from the seed
    # while the model runs: a saved parse state (same target folder) must not freeze that list.
    copy, target = rescored
    named = {r[0] for r in query(copy, "select lower(attribute) from config.lead_score_fit_rules")}
    assert "source_system" not in named and "company" not in named  # new to the rules
    con = duckdb.connect(str(copy))
    con.execute("insert into config.lead_score_fit_rules values "
                "('from_hubspot', 'source_system', 'equals', 'hubspot', 1), "
                "('company_known', 'company', 'is_set', null, 1)")
    con.close()
    try:
        result = dbt(copy, target, "run", "--select", "int_lead_fit_matches",
                     "--vars", EARLIER_VARS)
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
    copy, target = rescored
    con = duckdb.connect(str(copy))
    con.execute("insert into config.lead_score_fit_rules "
                "values ('industry_typo', 'industy', 'equals', 'Retail', 5)")
    con.close()
    try:
        result = dbt(copy, target, "run", "--select", "int_lead_fit_matches",
                     "--vars", EARLIER_VARS)
    finally:  # the copy is the module's: a later test must not meet the bad rule
        con = duckdb.connect(str(copy))
        con.execute("delete from config.lead_score_fit_rules where rule_id = 'industry_typo'")
        con.close()
    assert result.returncode != 0
    assert "rule 'industry_typo' names attribute 'industy'" in result.stdout, result.stdout


def test_history_uniqueness_is_tested_on_the_runs_scoring_date(rescored, tmp_path):
    """The unique test of lead_score_history reads only the run's date (__as_of_date__ in its
    `where`, macros/test_where.sql), so its cost does not grow with the nights kept."""
    copy, _ = rescored
    mine, target = tmp_path / "duplicates.duckdb", tmp_path / "target"
    shutil.copy(copy, mine)

    def duplicate_a_row_of(day):
        con = duckdb.connect(str(mine))
        con.execute("insert into marts.lead_score_history select * from "
                    "marts.lead_score_history where scored_as_of = ? limit 1", [day])
        con.close()
        return dbt(mine, target, "test", "--select", "lead_score_history",
                   "--vars", EARLIER_VARS)

    # a duplicate on another date was there when that date's run tested it: not read again
    assert duplicate_a_row_of(AS_OF).returncode == 0
    result = duplicate_a_row_of(EARLIER)  # the run's own date
    assert result.returncode != 0
    assert "unique_lead_score_history_score_id" in result.stdout, result.stdout
