"""The warn-level checks allowed to fire on the two data sets whose content is known: the demo
sample (seeds/) and the hand-worked fixture (tests/fixtures/small), each entry with why.

Every other warn-level check (dbt tests at severity warn, GX warnings, Dagster WARN checks)
must pass on them, so a regression that turns one red fails a test instead of adding a line
nobody reads: test_run_output.py (seeds/) and test_end_to_end.py (the fixture) compare what
fired with these lists, both ways (an entry that no longer fires must go too). DBT_WARN_LEVEL lists
every dbt test that is a warning at all, and why.
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

# Every dbt test at severity warn, with why the data can legitimately set it off (so it must
# not stop a run); test_run_output.py compares this with the project's warn-level tests, both
# ways, so a new warn-level test (or an error made a warning) says why here. The yml
# descriptions say what the row keeps.
DBT_WARN_LEVEL = {
    "int_stage_events_other_stage_listed":
        "ActiveCampaign's and Pipedrive's logs keep stages deleted since, Salesforce's history "
        "stages deactivated since; snapshot-inferred and first-seen stages (any CRM, e.g. a "
        "HubSpot stage renamed or deleted) can be gone; HubSpot and generic history is an error",
    "relationships_int_deal_owner_events_deal_id__deal_id__ref_int_deals_":
        "an activity log mentions deals the deals export lacks (deleted, partial export)",
    "fct_deals_stage_known":
        "a deal whose stage the pipeline does not list is quarantined and kept, open",
    "relationships_fct_deals_stage_id__stage_id__ref_dim_pipeline_stages_":
        "ActiveCampaign, Pipedrive, Salesforce deals name stages by id: a deleted stage (an "
        "error for HubSpot and generic)",
    "relationships_fct_deals_owner_id__owner_id__ref_dim_owners_":
        "sources naming owners by id: a deleted user (an error for HubSpot and generic)",
    "relationships_fct_deals_primary_contact_id__contact_id__ref_dim_contacts_":
        "a deals export can name contacts the contacts export filtered out or deleted",
    "relationships_fct_deal_stage_transitions_owner_id_at_time__owner_id__ref_dim_owners_":
        "owner-change logs name users by id: a deleted user",
    "not_null_fct_activities_occurred_at":
        "an unparseable activity date is quarantined and the activity kept without a time",
    "relationships_fct_activities_contact_id__contact_id__ref_dim_contacts_":
        "activity exports can name contacts that were not exported (filtered, deleted)",
    "relationships_fct_activities_deal_id__deal_id__ref_fct_deals_":
        "activity exports can name deals that were not exported (filtered, deleted)",
    "relationships_fct_activities_owner_id__owner_id__ref_dim_owners_":
        "sources naming users by id: a deleted user (an error for HubSpot and generic)",
    "relationships_dim_contacts_owner_id__owner_id__ref_dim_owners_":
        "sources naming contact owners by id: a deleted user (an error for HubSpot and generic)",
    "higher_bands_win_more_often_lead_score_calibration_10":
        "the outcomes can disagree with the scoring rules: a call for RevOps, not a bug",
    "relationships_pipeline_targets_config_pipeline_id__pipeline_id__ref_dim_pipeline_stages_":
        "the shipped targets name the sample's pipelines, which other exports do not have",
}


def fired_in_output(stdout: str) -> set[tuple[str, str]]:
    """The WARN checks `salespipe run` listed (`  WARN <asset> <check>[, n failing row(s)]`)."""
    return {tuple(line.split(",")[0].split()[1:3]) for line in stdout.splitlines()
            if line.startswith("  WARN ")}


def fired_in_summary(checks) -> set[tuple[str, str]]:
    """The WARN checks of a run's summary (`run_pipeline().checks`) that did not pass."""
    return {(row.asset, row.check) for row in checks if row.severity == "WARN" and not row.passed}
