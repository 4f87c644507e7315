"""The warn-level checks allowed to fire on the two data sets whose content is known: the demo
sample (seeds/) and the hand-worked fixture (tests/fixtures/small), each entry with why.

Every other warn-level check (dbt tests at severity warn, GX warnings, Dagster WARN checks)
must pass on them, so a regression that turns one red fails a test instead of adding a line
nobody reads: test_run_output.py (seeds/) and test_end_to_end.py (the fixture) compare what
fired with these lists, both ways (an entry that no longer fires must go too).
"""

SEEDS = {
    ("marts/deal_alerts", "no_new_alerts"):
        "the sample has stalled and overdue deals, all new on its first run",
}

FIXTURE_SMALL = {
    ("marts/deal_alerts", "no_new_alerts"):
        "deal D1 has no amount (the fixture's incomplete deal), a new alert on the first run",
    ("config/pipeline_targets_config",
     "relationships_pipeline_targets_config_pipeline_id__pipeline_id__ref_dim_pipeline_stages_"):
        "the targets seed names the demo sample's pipelines, which the fixture does not have",
}


def fired_in_output(stdout: str) -> set[tuple[str, str]]:
    """The WARN checks `salespipe run` listed (`  WARN <asset> <check>[, n failing row(s)]`)."""
    return {tuple(line.split(",")[0].split()[1:3]) for line in stdout.splitlines()
            if line.startswith("  WARN ")}


def fired_in_summary(checks) -> set[tuple[str, str]]:
    """The WARN checks of a run's summary (`run_pipeline().checks`) that did not pass."""
    return {(row.asset, row.check) for row in checks if row.severity == "WARN" and not row.passed}
