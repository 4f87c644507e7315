"""Tests for the synthetic CRM generator (orchestration/generate), against the contract in
docs/export-formats.md."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml

from orchestration.generate import FORMATS, generate

AS_OF = date(2026, 10, 31)
EMAIL = re.compile(r"^[a-z0-9]+(\.[a-z0-9]+)*@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")

HUBSPOT_CONTACT_HEADERS = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Job Title", "Company Name",
    "Industry", "Number of Employees", "Country/Region", "Original Source", "Lifecycle Stage",
    "Contact owner", "Create Date", "Last Activity Date", "Budget Range", "Decision Maker",
    "Need Identified", "Purchase Timeline", "Associated Deal IDs",
]
HUBSPOT_DEAL_HEADERS = [
    "Record ID", "Deal Name", "Pipeline", "Deal Stage", "Amount", "Currency", "Close Date",
    "Create Date", "Deal owner", "Deal Type", "Associated Contact IDs", "Last Activity Date",
]
HUBSPOT_ACTIVITY_HEADERS = [
    "Record ID", "Activity Type", "Activity Date", "Activity assigned to",
    "Associated Contact IDs", "Associated Deal IDs",
]
HUBSPOT_TYPES = {"EMAIL", "EMAIL_OPEN", "EMAIL_CLICK", "CALL", "MEETING", "FORM_SUBMISSION",
                 "PAGE_VIEW", "NOTE", "TASK"}
AC_KEYS = {
    "contacts": {"id", "email", "firstName", "lastName", "phone", "orgname", "cdate", "udate"},
    "fieldValues": {"id", "contact", "field", "value"},
    "fields": {"id", "title", "type", "perstag"},
    "deals": {"id", "title", "value", "currency", "group", "stage", "owner", "contact", "status",
              "percent", "cdate", "mdate", "edate"},
    "dealGroups": {"id", "title", "currency", "stages", "cdate", "udate"},
    "dealStages": {"id", "title", "group", "order", "cdate", "udate"},
    "dealActivities": {"id", "d_id", "d_stageid", "userid", "cdate", "dataType", "dataAction",
                       "dataOldval", "dataNewval"},
    "users": {"id", "username", "firstName", "lastName", "email", "group"},
    "groups": {"id", "title"},
    "activities": {"id", "contact", "deal", "userid", "tstamp", "type"},
}
AC_FIELD_TITLES = {"Industry", "Company Size", "Job Title", "Country", "Lead Source",
                   "Budget Range", "Decision Maker", "Need Identified", "Purchase Timeline"}
CANONICAL_TYPES = {"email_sent", "email_opened", "email_clicked", "call", "meeting",
                   "form_fill", "site_visit", "note", "task", "other"}


# ---------------------------------------------------------------- fixtures and readers

@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("small")
    return out, generate(out, deals=150, seed=7)


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> tuple[Path, dict]:
    """Big enough for proportions to be stable."""
    out = tmp_path_factory.mktemp("large")
    return out, generate(out, deals=3000, seed=11)


def csv(folder: Path, stem: str) -> pd.DataFrame:
    files = sorted(folder.glob(f"{stem}*.csv"))
    assert files, f"no {stem}*.csv in {folder}"
    return pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files],
                     ignore_index=True)


def ac(folder: Path, stem: str, key: str | None = None) -> list[dict]:
    rows = []
    for f in sorted(folder.glob(f"{stem}*.json")):
        if f.name.startswith(stem) and f.name[len(stem)] in ".-":
            rows += json.loads(f.read_text(encoding="utf-8"))[key or stem]
    return rows


def hs_time(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%d %H:%M")


def ac_time(s: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", s), s
    return datetime.fromisoformat(s)


def us_time(s: str) -> datetime:
    return datetime.strptime(s, "%m/%d/%Y %H:%M")


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


# ---------------------------------------------------------------- API and determinism

def test_formats_constant():
    assert FORMATS == ("hubspot", "activecampaign", "generic")


def test_same_inputs_give_byte_identical_files(small, tmp_path):
    out, summary = small
    again = generate(tmp_path, deals=150, seed=7)
    assert again == summary
    first, second = files_of(out), files_of(tmp_path)
    assert first.keys() == second.keys()
    assert all(first[k] == second[k] for k in first), "files differ between identical runs"


def test_each_format_is_independent_of_the_others(small, tmp_path):
    out, _ = small
    generate(tmp_path, deals=150, seed=7, formats=["generic"])
    assert [p.name for p in tmp_path.iterdir()] == ["generic"]
    alone = files_of(tmp_path / "generic")
    assert alone == files_of(out / "generic")


def test_seed_and_format_change_the_data(small, tmp_path):
    out, _ = small
    generate(tmp_path, deals=150, seed=8, formats=["hubspot"])
    assert (tmp_path / "hubspot/deals.csv").read_bytes() != (out / "hubspot/deals.csv").read_bytes()
    # Different formats are different business units, not copies of one company.
    hs, gen = csv(out / "hubspot", "deals"), csv(out / "generic", "deals")
    assert set(hs["Deal Name"]).isdisjoint(set(gen["Deal - Title"]))


@pytest.mark.parametrize("kwargs", [
    {"deals": 10, "formats": ["zoho"]},
    {"deals": 10, "formats": ["hubspot", "nope"]},
    {"deals": 0},
    {"deals": -5},
])
def test_bad_arguments_raise(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir()), "nothing may be written for invalid arguments"


def test_summary_counts_match_files(small):
    out, summary = small
    assert set(summary) == set(FORMATS)
    assert summary["hubspot"]["deals"] == len(csv(out / "hubspot", "deals")) == 150
    assert summary["hubspot"]["contacts"] == len(csv(out / "hubspot", "contacts"))
    assert summary["hubspot"]["activities"] == len(csv(out / "hubspot", "activities"))
    assert summary["generic"]["contacts"] == len(csv(out / "generic", "contacts"))
    assert summary["activecampaign"]["deals"] == len(ac(out / "activecampaign", "deals"))
    for fmt in FORMATS:
        s = summary[fmt]
        assert s["won"] + s["lost"] + s["open"] == s["deals"]
        assert 2.5 * s["deals"] <= s["contacts"] <= 3.5 * s["deals"]  # about 3 per deal


# ---------------------------------------------------------------- HubSpot contract

def test_hubspot_files_and_headers(small):
    folder = small[0] / "hubspot"
    assert {p.name for p in folder.iterdir()} == {
        "contacts.csv", "deals.csv", "activities.csv", "pipelines.json", "owners.json"}
    pipelines = json.loads((folder / "pipelines.json").read_text())
    assert list(pipelines) == ["results"]
    stage_cols = []
    for pl in pipelines["results"]:
        assert set(pl) == {"id", "label", "displayOrder", "archived", "stages"}
        for st in pl["stages"]:
            assert set(st) == {"id", "label", "displayOrder", "archived", "metadata"}
            assert set(st["metadata"]) == {"isClosed", "probability"}
            name = f'{st["label"]} ({pl["label"]})'
            stage_cols += [f'Date entered "{name}"', f'Date exited "{name}"']
    assert list(csv(folder, "contacts").columns) == HUBSPOT_CONTACT_HEADERS
    assert list(csv(folder, "deals").columns) == HUBSPOT_DEAL_HEADERS + stage_cols
    assert list(csv(folder, "activities").columns) == HUBSPOT_ACTIVITY_HEADERS
    owners = json.loads((folder / "owners.json").read_text())["results"]
    for o in owners:
        assert set(o) == {"id", "email", "firstName", "lastName", "userId", "archived", "teams"}
        assert all(set(t) == {"id", "name", "primary"} for t in o["teams"])


def test_hubspot_pipelines_owners_and_values(small):
    folder = small[0] / "hubspot"
    pipelines = json.loads((folder / "pipelines.json").read_text())["results"]
    assert len(pipelines) == 2
    for pl in pipelines:
        meta = [s["metadata"] for s in pl["stages"]]
        open_stages = [m for m in meta if m["isClosed"] == "false"]
        closed = {m["probability"] for m in meta if m["isClosed"] == "true"}
        assert closed == {"1.0", "0.0"}  # one won and one lost exit
        assert len(open_stages) >= 3
    assert max(sum(s["metadata"]["isClosed"] == "false" for s in pl["stages"])
               for pl in pipelines) >= 6
    owners = json.loads((folder / "owners.json").read_text())["results"]
    assert len(owners) >= 10
    assert len({o["teams"][0]["name"] for o in owners}) >= 2
    deals = csv(folder, "deals")
    labels = {f'{s["label"]}': pl["label"] for pl in pipelines for s in pl["stages"]}
    assert set(deals["Deal Stage"]) <= set(labels)
    assert all(labels[s] == p for s, p in zip(deals["Deal Stage"], deals["Pipeline"],
                                              strict=True))
    assert set(deals["Deal Type"]) == {"newbusiness", "existingbusiness"}
    assert set(deals["Currency"]) <= {"USD", "EUR"}
    names = {f'{o["firstName"]} {o["lastName"]}' for o in owners}
    assert set(deals["Deal owner"]) - {""} <= names
    acts = csv(folder, "activities")
    assert set(acts["Activity Type"]) <= HUBSPOT_TYPES
    assert set(acts["Activity assigned to"]) - {""} <= names
    contact_ids = set(csv(folder, "contacts")["Record ID"])
    assert set(acts["Associated Contact IDs"]) <= contact_ids
    linked = {i for ids in deals["Associated Contact IDs"] for i in ids.split(";") if i}
    assert linked <= contact_ids
    assert set(acts["Associated Deal IDs"]) - {""} <= set(deals["Record ID"])


def test_hubspot_stage_dates_are_consistent(large):
    deals = csv(large[0] / "hubspot", "deals")
    entered = [c for c in deals.columns if c.startswith("Date entered")]
    backwards = 0
    for _, row in deals.iterrows():
        visits = []
        for col in entered:
            ex = col.replace("Date entered", "Date exited")
            if row[col]:
                visits.append(hs_time(row[col]))
                assert hs_time(row["Create Date"]) <= hs_time(row[col])
                if row[ex]:
                    assert hs_time(row[col]) <= hs_time(row[ex])
        # The current stage was entered last and not exited.
        cur = f'Date entered "{row["Deal Stage"]} ({row["Pipeline"]})"'
        assert row[cur] and hs_time(row[cur]) == max(visits)
        assert not row[cur.replace("Date entered", "Date exited")]
        backwards += visits != sorted(visits)  # a later stage entered before an earlier one
    assert backwards > 0, "some deals should move back (latest visit per stage)"


# ---------------------------------------------------------------- ActiveCampaign contract

def test_activecampaign_files_and_keys(small):
    folder = small[0] / "activecampaign"
    assert {p.name for p in folder.iterdir()} == {
        "contacts.json", "fields.json", "deals.json", "dealGroups.json", "dealStages.json",
        "dealActivities.json", "users.json", "groups.json", "activities.json"}
    whole = json.loads((folder / "contacts.json").read_text())
    assert set(whole) == {"contacts", "fieldValues", "meta"}
    assert set(whole["meta"]) == {"total"} and whole["meta"]["total"] == "450"
    assert set(json.loads((folder / "deals.json").read_text())) == {"deals", "meta"}
    for stem, keys in AC_KEYS.items():
        src = "contacts" if stem == "fieldValues" else stem
        rows = ac(folder, src, stem)
        assert rows, stem
        assert all(set(r) == keys for r in rows), stem
        for r in rows:  # ids and scalars are strings (or null), as the v3 API returns
            assert all(v is None or isinstance(v, (str, list)) for v in r.values()), (stem, r)
    assert {f["title"] for f in ac(folder, "fields")} == AC_FIELD_TITLES


def test_activecampaign_values(small):
    folder = small[0] / "activecampaign"
    deals = ac(folder, "deals")
    stages = {s["id"]: s for s in ac(folder, "dealStages")}
    groups = {g["id"]: g for g in ac(folder, "dealGroups")}
    users = {u["id"] for u in ac(folder, "users")}
    assert len(groups) == 2 and max(len(g["stages"]) for g in groups.values()) >= 6
    assert len(users) >= 10 and len({u["group"] for u in ac(folder, "users")}) >= 2
    assert {u["group"] for u in ac(folder, "users")} <= {g["id"] for g in ac(folder, "groups")}
    for d in deals:
        assert d["status"] in {"0", "1", "2"}
        assert d["currency"] in {"usd", "eur"}
        assert d["value"].isdigit()
        assert stages[d["stage"]]["group"] == d["group"]
        assert d["owner"] is None or d["owner"] in users
        for k in ("cdate", "mdate", "edate"):
            ac_time(d[k])
    acts = ac(folder, "activities")
    assert {a["type"] for a in acts} <= {"sent", "open", "click", "form", "visit", "call",
                                         "meeting"}
    contacts = {c["id"] for c in ac(folder, "contacts")}
    assert {a["contact"] for a in acts} <= contacts
    assert {d["contact"] for d in deals} <= contacts


def test_activecampaign_deal_log_replays_to_deal_state(large):
    folder = large[0] / "activecampaign"
    deals = {d["id"]: d for d in ac(folder, "deals")}
    state: dict[str, dict] = {}
    seen = set()
    for a in ac(folder, "dealActivities"):
        s = state.setdefault(a["d_id"], {})
        if a["dataType"] == "deal":
            assert a["dataAction"] == "create" and not s
            s.update(stage=a["d_stageid"], status="0")
        elif a["dataType"] == "d_stageid":
            assert a["dataOldval"] == s["stage"] and s["status"] == "0"
            s["stage"] = a["dataNewval"]
        elif a["dataType"] == "status":
            assert a["dataOldval"] == s["status"]
            s["status"] = a["dataNewval"]
            seen.add((a["dataOldval"], a["dataNewval"]))
        else:
            assert a["dataType"] in {"owner", "note", "task"}
        assert a["d_stageid"] == s["stage"]
    assert state.keys() == deals.keys()
    for i, d in deals.items():
        assert (state[i]["stage"], state[i]["status"]) == (d["stage"], d["status"])
    assert {("0", "1"), ("0", "2"), ("2", "0")} <= seen  # won, lost and reopened


# ---------------------------------------------------------------- generic contract

def test_generic_mapping_follows_the_schema(small):
    folder = small[0] / "generic"
    assert {p.name for p in folder.iterdir()} == {
        "mapping.yml", "deals.csv", "contacts.csv", "activities.csv", "owners.csv"}
    m = yaml.safe_load((folder / "mapping.yml").read_text())
    assert set(m) == {"source_name", "date_formats", "default_pipeline", "deals", "pipelines",
                      "contacts", "activities", "owners"}
    assert m["source_name"] == "pipedrive_export"
    assert m["date_formats"] == ["%m/%d/%Y %H:%M", "%m/%d/%Y"]
    assert set(m["deals"]) == {"file", "columns", "stage_entered_columns"}
    assert {"deal_id", "stage", "created_at"} <= set(m["deals"]["columns"])
    assert set(m["deals"]["columns"]) <= {
        "deal_id", "stage", "created_at", "deal_name", "amount", "currency", "owner", "pipeline",
        "close_date", "closed_at", "contact_id"}
    assert set(m["contacts"]["columns"]) <= {
        "contact_id", "email", "first_name", "last_name", "company", "title", "industry",
        "company_size", "country", "lead_source", "created_at", "owner"}
    assert set(m["activities"]["columns"]) <= {
        "activity_id", "activity_type", "occurred_at", "contact_id", "deal_id", "owner"}
    assert set(m["owners"]["columns"]) == {"owner", "email", "team"}
    assert set(m["activities"]["types"].values()) <= CANONICAL_TYPES
    for pl in m["pipelines"]:
        assert set(pl) <= {"name", "stages", "won", "lost", "probabilities"}
        assert set(pl["won"]) | set(pl["lost"]) <= set(pl["stages"])
        assert len(pl["won"]) == len(pl["lost"]) == 1
    assert m["default_pipeline"] in {pl["name"] for pl in m["pipelines"]}
    for section, stem in (("deals", "deals"), ("contacts", "contacts"),
                          ("activities", "activities"), ("owners", "owners")):
        assert m[section]["file"] == f"{stem}*.csv"
        headers = set(csv(folder, stem).columns)
        assert set(m[section]["columns"].values()) <= headers, section
    assert set(m["deals"]["stage_entered_columns"].values()) <= set(csv(folder, "deals").columns)


def test_generic_values(small):
    folder = small[0] / "generic"
    m = yaml.safe_load((folder / "mapping.yml").read_text())
    c = m["deals"]["columns"]
    deals = csv(folder, "deals")
    stage_of = {pl["name"]: set(pl["stages"]) for pl in m["pipelines"]}
    closed = {s for pl in m["pipelines"] for s in pl["won"] + pl["lost"]}
    for _, d in deals.iterrows():
        assert d[c["stage"]] in stage_of[d[c["pipeline"]]]
        us_time(d[c["created_at"]])
        datetime.strptime(d[c["close_date"]], "%m/%d/%Y")
        assert bool(d[c["closed_at"]]) == (d[c["stage"]] in closed)
        for stage, col in m["deals"]["stage_entered_columns"].items():
            if d[col]:
                assert stage in stage_of[d[c["pipeline"]]]
                assert us_time(d[c["created_at"]]) <= us_time(d[col])
                if d[c["closed_at"]]:
                    assert us_time(d[col]) <= us_time(d[c["closed_at"]])
    acts = csv(folder, "activities")
    assert set(acts[m["activities"]["columns"]["activity_type"]]) <= set(m["activities"]["types"])
    owners = csv(folder, "owners")
    assert len(owners) >= 10 and owners["User - Team"].nunique() >= 2
    assert set(deals[c["owner"]]) - {""} <= set(owners["User - Name"])


# ---------------------------------------------------------------- cross-format properties

def deal_ids(out: Path) -> dict[str, list[str]]:
    return {
        "hubspot": list(csv(out / "hubspot", "deals")["Record ID"]),
        "activecampaign": [d["id"] for d in ac(out / "activecampaign", "deals")],
        "generic": list(csv(out / "generic", "deals")["Deal - ID"]),
    }


def test_deal_ids_unique(small):
    for fmt, ids in deal_ids(small[0]).items():
        assert len(ids) == 150 and len(set(ids)) == len(ids), fmt


def outcomes(out: Path) -> dict[str, pd.Series]:
    """'won' / 'lost' / 'open' per deal, read the way each CRM exposes it."""
    pipes = json.loads((out / "hubspot/pipelines.json").read_text())["results"]
    prob = {s["label"]: (s["metadata"]["isClosed"], s["metadata"]["probability"])
            for pl in pipes for s in pl["stages"]}
    hs = csv(out / "hubspot", "deals")["Deal Stage"].map(
        lambda s: {("true", "1.0"): "won", ("true", "0.0"): "lost"}.get(prob[s], "open"))
    acd = pd.Series([{"0": "open", "1": "won", "2": "lost"}[d["status"]]
                     for d in ac(out / "activecampaign", "deals")])
    m = yaml.safe_load((out / "generic/mapping.yml").read_text())
    won = {s for pl in m["pipelines"] for s in pl["won"]}
    lost = {s for pl in m["pipelines"] for s in pl["lost"]}
    gen = csv(out / "generic", "deals")["Deal - Stage"].map(
        lambda s: "won" if s in won else "lost" if s in lost else "open")
    return {"hubspot": hs, "activecampaign": acd, "generic": gen}


def test_outcome_mix_is_plausible(large):
    for fmt, o in outcomes(large[0]).items():
        share = o.value_counts(normalize=True)
        assert 0.25 <= share["won"] <= 0.37, (fmt, share)
        assert 0.35 <= share["lost"] <= 0.47, (fmt, share)
        assert 0.20 <= share["open"] <= 0.30, (fmt, share)


def test_pipeline_hygiene_cases_exist(large):
    deals = csv(large[0] / "hubspot", "deals")
    is_open = outcomes(large[0])["hubspot"] == "open"
    assert (deals["Amount"][is_open] == "").sum() >= 5
    assert (deals["Deal owner"][is_open] == "").sum() >= 5
    past_close = deals["Close Date"][is_open].map(hs_time) < datetime(2026, 10, 31)
    assert past_close.sum() >= 5
    cur = [f'Date entered "{s} ({p})"'
           for s, p in zip(deals["Deal Stage"], deals["Pipeline"], strict=True)]
    entered = pd.Series([deals.at[i, c] for i, c in enumerate(cur)])[is_open].map(hs_time)
    assert ((datetime(2026, 10, 31) - entered).dt.days > 60).sum() >= 5  # stuck in a stage
    eur = (deals["Currency"] == "EUR").mean()
    assert 0.02 <= eur <= 0.2
    amounts = deals["Amount"][deals["Amount"] != ""].astype(float)
    assert amounts.median() < amounts.mean() < amounts.quantile(0.9)  # right-skewed
    created = deals["Create Date"].map(hs_time)
    assert (datetime(2026, 10, 31) - created.min()).days > 600  # ~2 years of history


def test_no_timestamp_after_as_of(small):
    out = small[0]
    limit = datetime(2026, 10, 31, 23, 59)
    hs = out / "hubspot"
    deals = csv(hs, "deals")
    closed = outcomes(out)["hubspot"] != "open"
    stamps = [x for col in deals.columns if col.startswith("Date ") or col in
              ("Create Date", "Last Activity Date") for x in deals[col] if x]
    stamps += [x for x in deals["Close Date"][closed]]
    contacts = csv(hs, "contacts")
    stamps += [x for col in ("Create Date", "Last Activity Date") for x in contacts[col] if x]
    stamps += list(csv(hs, "activities")["Activity Date"])
    assert max(map(hs_time, stamps)) <= limit
    acf = out / "activecampaign"
    acs = [a["tstamp"] for a in ac(acf, "activities")]
    acs += [a["cdate"] for a in ac(acf, "dealActivities")]
    acs += [d[k] for d in ac(acf, "deals") for k in ("cdate", "mdate")]
    acs += [c[k] for c in ac(acf, "contacts") for k in ("cdate", "udate")]
    assert max(ac_time(x).replace(tzinfo=None) for x in acs) <= limit
    assert max(ac_time(x) for x in acs).date() <= AS_OF
    gen = out / "generic"
    gd = csv(gen, "deals")
    gs = [x for col in gd.columns if col.startswith("Deal - Entered") or col in
          ("Deal - Deal created", "Deal - Close time") for x in gd[col] if x]
    gs += list(csv(gen, "activities")["Activity - Done time"])
    gs += list(csv(gen, "contacts")["Person - Created"])
    assert max(map(us_time, gs)) <= limit


def test_emails_are_valid_and_unique(small):
    out = small[0]
    lists = {
        "hubspot": list(csv(out / "hubspot", "contacts")["Email"]),
        "activecampaign": [c["email"] for c in ac(out / "activecampaign", "contacts")],
        "generic": list(csv(out / "generic", "contacts")["Person - Email"]),
    }
    owners = json.loads((out / "hubspot/owners.json").read_text())["results"]
    lists["hubspot owners"] = [o["email"] for o in owners]
    lists["ac users"] = [u["email"] for u in ac(out / "activecampaign", "users")]
    lists["generic owners"] = list(csv(out / "generic", "owners")["User - Email"])
    for name, emails in lists.items():
        bad = [e for e in emails if not EMAIL.match(e)]
        assert not bad, (name, bad[:5])
        assert len(set(emails)) == len(emails), name


def test_contacts_carry_firmographics_and_bant(small):
    contacts = csv(small[0] / "hubspot", "contacts")
    for col in ("Job Title", "Company Name", "Industry", "Number of Employees",
                "Country/Region", "Original Source"):
        assert (contacts[col] != "").all(), col
    for col in ("Budget Range", "Decision Maker", "Need Identified", "Purchase Timeline"):
        filled = (contacts[col] != "").mean()
        assert 0.2 < filled < 1.0, col  # qualified contacts answer, raw leads mostly not


def test_won_deals_contacts_engage_more_than_lost(large):
    folder = large[0] / "hubspot"
    deals = csv(folder, "deals")
    result = outcomes(large[0])["hubspot"]
    acts = csv(folder, "activities")
    per_contact = acts["Associated Contact IDs"].value_counts()
    last = acts.groupby("Associated Contact IDs")["Activity Date"].max().map(hs_time)

    def contacts_of(kind: str) -> set[str]:
        ids = deals["Associated Contact IDs"][result == kind]
        return {i for joined in ids for i in joined.split(";")}

    won, lost = contacts_of("won"), contacts_of("lost")
    only_won, only_lost = won - lost, lost - won
    def mean(ids: set[str]) -> float:
        return per_contact.reindex(list(ids), fill_value=0).mean()

    def latest(ids: set[str]):
        return last.reindex(list(ids)).median()

    assert mean(only_won) > 1.5 * mean(only_lost)
    assert latest(only_won) > latest(only_lost)  # won contacts stay engaged, lost go quiet


def test_some_open_deals_are_radio_silent(large):
    acts = csv(large[0] / "hubspot", "activities")
    deals = csv(large[0] / "hubspot", "deals")
    is_open = outcomes(large[0])["hubspot"] == "open"
    last = acts[acts["Associated Deal IDs"] != ""].groupby("Associated Deal IDs")[
        "Activity Date"].max().map(hs_time)
    open_ids = deals["Record ID"][is_open]
    quiet = (datetime(2026, 10, 31) - last.reindex(open_ids)).dt.days > 30
    assert 0.05 <= quiet.mean() <= 0.6


def test_stale_pages_from_a_bigger_run_are_removed(tmp_path):
    hs = tmp_path / "hubspot"
    hs.mkdir()
    (hs / "deals-7.csv").write_text("stale\n")
    (hs / "notes.txt").write_text("keep me\n")
    generate(tmp_path, deals=5, seed=1, formats=["hubspot"])
    assert not (hs / "deals-7.csv").exists()
    assert (hs / "notes.txt").exists()
