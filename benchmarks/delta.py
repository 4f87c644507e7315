"""The next night's CRM export drop: a delta file per object beside the full export.

What a nightly drop looks like (the choice the benchmark and tests/test_incremental.py make):
the CRM's "changed since the last export" files land next to the earlier ones, named
`<object>-delta-<YYYYMMDD>.<ext>` so they match each object's file pattern (`deals*.csv`,
`dealActivities*.json`, ...). Earlier files stay untouched, so the ingest skips them by checksum
and lands only the delta; staging keeps the newest version of a record that appears twice.

A delta of `fraction` (1% by default) holds, per export format:
- changed deals: fraction/2 of the deals, open ones, lost on the drop day (stage, close date,
  HubSpot's "Date entered" of the lost stage, an ActiveCampaign status event);
- new deals: fraction/2 of the deals, created on the drop day in their pipeline's first stage
  and expected to close NEW_DEAL_CLOSES_IN_DAYS later
  (copies of existing deals' names, amounts, owners and contacts under new ids);
- new activities: fraction of the activities, copies under new ids dated on the drop day
  (ActiveCampaign: 20 on each deal of the drop, see _activecampaign);
- changed contacts: fraction of the contacts re-exported with one field changed (HubSpot).

Everything is done in DuckDB over the export files (no Python loops over rows); sampling is by
a hash of the id and `seed`, so the same inputs give the same delta. New ids carry the drop
day's serial number (`_serial`), so deltas of successive days (benchmarks/run.py --nights) add
new records every night instead of rewriting the previous night's; new deals are copied only
from deals the CRM made, not from an earlier drop's.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import yaml

NEW_DEAL_CLOSES_IN_DAYS = 30
# New ids of a drop: a base above anything the CRM issues, plus the drop day's serial times a
# stride larger than any one drop's count of new records of a kind.
SERIAL_EPOCH = dt.date(2000, 1, 1)
NEW_ID_STRIDE = 10_000_000


def _serial(day: dt.date) -> int:
    """Days since 2000-01-01: a different id space for each drop day."""
    return (day - SERIAL_EPOCH).days


def write_delta(export_dir: Path, day: dt.date, fraction: float = 0.01, seed: int = 1) -> dict:
    """Write the delta files of `day` into each format folder of export_dir; return counts."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    counts = {}
    tag = day.strftime("%Y%m%d")
    for fmt, writer in (("hubspot", _hubspot), ("activecampaign", _activecampaign),
                        ("generic", _generic)):
        folder = Path(export_dir) / fmt
        if folder.is_dir():
            counts[fmt] = writer(con, folder, day, tag, fraction, seed)
    con.close()
    return counts


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _files(folder: Path, pattern: str) -> str:
    """The full export's files of one object (earlier deltas included), as a DuckDB list."""
    files = sorted(str(p) for p in folder.glob(pattern))
    return "[" + ", ".join(_lit(f) for f in files) + "]"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sample(id_col: str, seed: int) -> str:
    return f"hash(cast({id_col} as varchar) || '|{seed}')"


def _csv(con, folder: Path, pattern: str) -> str:
    return (f"read_csv({_files(folder, pattern)}, all_varchar = true, header = true, "
            "union_by_name = true)")


def _copy_csv(con, sql: str, target: Path) -> int:
    con.execute(f"copy ({sql}) to {_lit(target)} (header, delimiter ',')")
    return con.execute(f"select count(*) from read_csv({_lit(target)}, all_varchar = true)"
                       ).fetchone()[0]


def _count(con, relation: str, fraction: float) -> int:
    return max(1, round(con.execute(f"select count(*) from {relation}").fetchone()[0] * fraction))


# --- HubSpot: CSV UI exports, labels as values ----------------------------------------------

# A new HubSpot deal's id is its template's id (below 10^11) plus the drop's offset; a stride
# of 10^11 keeps one drop's ids apart from the next's, and every id below 2^53 (exact as a
# double, as some tools read ids).
HS_NEW_IDS = 900_000_000_000
HS_NEW_ID_STRIDE = 100_000_000_000


def _hubspot(con, folder: Path, day: dt.date, tag: str, fraction: float, seed: int) -> dict:
    stamp = f"{day.isoformat()} 12:00"
    con.execute(f"create or replace temp table hs_deals as select * from "
                f"{_csv(con, folder, 'deals*.csv')}")
    # the newest version of each deal (an earlier delta may have changed it)
    con.execute("create or replace temp table hs_deals as select * exclude (rn) from ("
                "select *, row_number() over (partition by \"Record ID\") as rn from hs_deals) "
                "where rn = 1")
    half = _count(con, "hs_deals", fraction / 2)
    pipelines = json.loads((folder / "pipelines.json").read_text())["results"]
    lost = {p["label"]: next(s["label"] for s in p["stages"]
                             if s["metadata"].get("isClosed") == "true"
                             and float(s["metadata"].get("probability", 1)) == 0.0)
            for p in pipelines}
    won = {p["label"]: [s["label"] for s in p["stages"]
                        if s["metadata"].get("isClosed") == "true"] for p in pipelines}
    closed = ", ".join(_lit(s) for labels in won.values() for s in labels)
    con.execute(f"""create or replace temp table hs_changed as
        select * from hs_deals where "Deal Stage" not in ({closed})
        order by {_sample('"Record ID"', seed)} limit {half}""")
    for pipeline, stage in lost.items():  # one update per pipeline: the lost stage's column
        con.execute(f"""update hs_changed set "Deal Stage" = {_lit(stage)},
            "Close Date" = {_lit(stamp)},
            {_ident(f'Date entered "{stage} ({pipeline})"')} = {_lit(stamp)}
            where "Pipeline" = {_lit(pipeline)}""")
    first = {p["label"]: min((s for s in p["stages"] if not s.get("archived")),
                             key=lambda s: s["displayOrder"])["label"] for p in pipelines}
    dates = [r[0] for r in con.execute("describe hs_deals").fetchall() if r[0].startswith("Date e")]
    blank = ", ".join(f"cast(null as varchar) as {_ident(c)}" for c in dates)
    new_ids = HS_NEW_IDS + _serial(day) * HS_NEW_ID_STRIDE
    con.execute(f"""create or replace temp table hs_new as
        select * replace (cast(cast("Record ID" as bigint) + {new_ids} as varchar)
                          as "Record ID", {_lit(stamp)} as "Create Date", cast(null as varchar) as "Close Date",
                          cast(null as varchar) as "Last Activity Date", {blank})
        from hs_deals where cast("Record ID" as bigint) < {HS_NEW_IDS}
        order by {_sample('"Record ID"', seed + 1)} limit {half}""")
    for pipeline, stage in first.items():  # one update per pipeline: its first stage
        con.execute(f"""update hs_new set "Deal Stage" = {_lit(stage)},
            {_ident(f'Date entered "{stage} ({pipeline})"')} = {_lit(stamp)}
            where "Pipeline" = {_lit(pipeline)}""")
    out = {"deals": _copy_csv(con, "select * from hs_changed union all by name "
                                   "select * from hs_new", folder / f"deals-delta-{tag}.csv")}
    acts = _csv(con, folder, "activities*.csv")
    n_acts = _count(con, acts, fraction)
    out["activities"] = _copy_csv(con, f"""
        select * replace (
            cast({HS_NEW_IDS + _serial(day) * NEW_ID_STRIDE} + row_number() over ()
                 as varchar) as "Record ID",
            {_lit(day.isoformat())} || substr("Activity Date", 11) as "Activity Date")
        from {acts} order by {_sample('"Record ID"', seed)} limit {n_acts}""",
        folder / f"activities-delta-{tag}.csv")
    contacts = _csv(con, folder, "contacts*.csv")
    out["contacts"] = _copy_csv(con, f"""
        select * replace ({_lit(stamp)} as "Last Activity Date")
        from {contacts} order by {_sample('"Record ID"', seed)}
        limit {_count(con, contacts, fraction)}""", folder / f"contacts-delta-{tag}.csv")
    return out


def _expected_close(day: dt.date) -> dt.date:
    # A new deal is expected to close after it is created, not on the copied deal's date.
    return day + dt.timedelta(days=NEW_DEAL_CLOSES_IN_DAYS)


# --- ActiveCampaign: saved API responses (JSON), ids as strings ------------------------------

# The fields of the saved responses (docs/export-formats.md), read as text so values are
# written back exactly as the CRM gave them.
AC_FIELDS = {
    "deals": ("id", "title", "value", "currency", "group", "stage", "owner", "contact", "status",
              "percent", "cdate", "mdate", "edate"),
    "dealStages": ("id", "title", "group", "order", "cdate", "udate"),
}
# New ids above anything the CRM has issued (ActiveCampaign ids are increasing integers);
# reading the largest id of a 700 MB response would cost minutes at L.
AC_NEW_IDS = 900_000_000


def _json_items(folder: Path, pattern: str, key: str) -> str:
    """Every object of the `key` array of the matching files, one JSON value `j` per row."""
    struct = ", ".join(f'"{f}" VARCHAR' for f in AC_FIELDS[key])
    return (f"(select to_json(r) as j from (select unnest({key}) as r from read_json("
            f"{_files(folder, pattern)}, columns = {{'{key}': 'STRUCT({struct})[]'}}, "
            "maximum_object_size = 2000000000)))")


def _field(name: str) -> str:
    return f"(j ->> '{name}')"


def _write_json(con, sql: str, target: Path) -> None:
    """One JSON document built in DuckDB (e.g. {"deals": [...]}) written as it is."""
    text = con.execute(sql).fetchone()[0]
    target.write_text(text)


def _activecampaign(con, folder: Path, day: dt.date, tag: str, fraction: float,
                    seed: int) -> dict:
    """Deals (lost, new), their deal-log events and new activities on the delta's deals'
    contacts; ActiveCampaign's contacts and activity responses are hundreds of MB of JSON at
    L, so the drop carries no re-exported contacts and draws activities from the deals."""
    stamp = f"{day.isoformat()}T12:00:00+00:00"
    new_ids = AC_NEW_IDS + _serial(day) * NEW_ID_STRIDE
    con.execute(f"create or replace temp table ac_deals as select j, {_field('id')} as id "
                f"from {_json_items(folder, 'deals*.json', 'deals')}")
    con.execute("create or replace temp table ac_deals as select j, id from ("
                "select *, row_number() over (partition by id) as rn from ac_deals) "
                "where rn = 1")
    half = _count(con, "ac_deals", fraction / 2)
    con.execute(f"""create or replace temp table ac_changed as
        select id, j, j ->> 'stage' as stage, j ->> 'owner' as owner, j ->> 'contact' as contact
        from ac_deals where j ->> 'status' = '0' order by {_sample('id', seed)} limit {half}""")
    con.execute(f"""create or replace temp table ac_first as
        select j ->> 'group' as grp, arg_min(j ->> 'id', cast(j ->> 'order' as integer)) as stage
        from {_json_items(folder, 'dealStages*.json', 'dealStages')} group by all""")
    con.execute(f"""create or replace temp table ac_new as
        select cast(cast(d.id as bigint) + {new_ids} as varchar) as id, f.stage,
               d.j ->> 'owner' as owner, d.j ->> 'contact' as contact, d.j
        from ac_deals as d inner join ac_first as f on f.grp = d.j ->> 'group'
        where cast(d.id as bigint) < {AC_NEW_IDS}
        order by {_sample('d.id', seed + 1)} limit {half}""")
    deals = f"""
        select json_merge_patch(j, json_object('status', '2', 'percent', '0',
                                               'mdate', {_lit(stamp)})) as j from ac_changed
        union all
        select json_merge_patch(j, json_object('id', id, 'stage', stage, 'status', '0',
            'percent', '0', 'cdate', {_lit(stamp)}, 'mdate', {_lit(stamp)},
            'edate', {_lit(_expected_close(day).isoformat() + 'T12:00:00+00:00')})) from ac_new"""
    _write_json(con, f"select json_object('deals', list(j), 'meta', "
                     f"json_object('total', cast(count(*) as varchar)))::varchar "
                     f"from ({deals})", folder / f"deals-delta-{tag}.json")
    # the lost deals' status events, then the new deals' creation events
    log = f"""
        select json_object('id', cast({new_ids} + row_number() over (order by id) as varchar),
            'd_id', id, 'd_stageid', stage, 'userid', owner, 'cdate', {_lit(stamp)},
            'dataType', 'status', 'dataAction', 'update', 'dataOldval', '0',
            'dataNewval', '2') as j
        from ac_changed
        union all
        select json_object('id', cast({new_ids} + {half} + row_number() over (order by id)
                                      as varchar),
            'd_id', id, 'd_stageid', stage, 'userid', owner, 'cdate', {_lit(stamp)},
            'dataType', 'deal', 'dataAction', 'create', 'dataOldval', null, 'dataNewval', null)
        from ac_new"""
    _write_json(con, f"select json_object('dealActivities', list(j))::varchar from ({log})",
                folder / f"dealActivities-delta-{tag}.json")
    # about 20 activities per deal of the drop (the export's rate), through the drop day
    per_deal = 20
    kinds = "['sent', 'open', 'click', 'visit', 'call', 'meeting']"
    _write_json(con, f"""
        select json_object('activities', list(j))::varchar from (
            select json_object(
                'id', cast({new_ids} + row_number() over (order by d.id, k.i) as varchar),
                'contact', d.contact, 'deal', d.id, 'userid', d.owner,
                'tstamp', {_lit(day.isoformat())} || 'T' || lpad(cast(8 + k.i % 10 as varchar),
                    2, '0') || ':' || lpad(cast((k.i * 7) % 60 as varchar), 2, '0')
                    || ':00+00:00',
                'type', {kinds}[1 + k.i % 6]) as j
            from (select id, owner, contact from ac_changed
                  union all select id, owner, contact from ac_new) as d
            cross join range({per_deal}) as k(i)
            where d.contact is not null)""", folder / f"activities-delta-{tag}.json")
    return {"deals": 2 * half, "activities": 2 * half * per_deal}


# --- generic: any CRM's CSV with mapping.yml --------------------------------------------------

def _generic(con, folder: Path, day: dt.date, tag: str, fraction: float, seed: int) -> dict:
    mapping = yaml.safe_load((folder / "mapping.yml").read_text())
    fmt = (mapping.get("date_formats") or ["%Y-%m-%d %H:%M"])[0]
    stamp = dt.datetime.combine(day, dt.time(12)).strftime(fmt)
    deal_cols = mapping["deals"]["columns"]
    did, stage_col = deal_cols["deal_id"], deal_cols["stage"]
    pipe_col = deal_cols.get("pipeline")
    closed_col = deal_cols.get("closed_at")
    deals = _csv(con, folder, mapping["deals"]["file"])
    con.execute(f"create or replace temp table g_deals as select * exclude (rn) from ("
                f"select *, row_number() over (partition by \"{did}\") as rn from {deals}) "
                "where rn = 1")
    half = _count(con, "g_deals", fraction / 2)
    closed = [s for p in mapping["pipelines"] for s in p.get("won", []) + p.get("lost", [])]
    con.execute(f"""create or replace temp table g_changed as
        select * from g_deals where "{stage_col}" not in ({", ".join(_lit(s) for s in closed)})
        order by {_sample(f'"{did}"', seed)} limit {half}""")
    for p in mapping["pipelines"]:  # one update per pipeline: its lost stage
        where = (f'where coalesce("{pipe_col}", {_lit(mapping.get("default_pipeline", ""))}) = '
                 f'{_lit(p["name"])}') if pipe_col else ""
        sets = [f'"{stage_col}" = {_lit(p["lost"][0])}']
        if closed_col:
            sets.append(f'"{closed_col}" = {_lit(stamp)}')
        con.execute(f"update g_changed set {', '.join(sets)} {where}")
    entered = mapping["deals"].get("stage_entered_columns", {})
    blank = [f"cast(null as varchar) as {_ident(c)}" for c in entered.values()]
    blank += [f"cast(null as varchar) as {_ident(deal_cols[k])}" for k in ("closed_at",) if k in deal_cols]
    created = f", {_lit(stamp)} as {_ident(deal_cols['created_at'])}"
    if "close_date" in deal_cols:
        due = dt.datetime.combine(_expected_close(day), dt.time(12)).strftime(fmt)
        created += f", {_lit(due)} as {_ident(deal_cols['close_date'])}"
    con.execute(f"""create or replace temp table g_new as
        select * replace ('n{_serial(day)}-' || "{did}" as "{did}"{created}
                          {''.join(', ' + b for b in blank)})
        from g_deals where not starts_with("{did}", 'n')
        order by {_sample(f'"{did}"', seed + 1)} limit {half}""")
    for p in mapping["pipelines"]:  # one update per pipeline: its first stage
        where = (f'where coalesce("{pipe_col}", {_lit(mapping.get("default_pipeline", ""))}) = '
                 f'{_lit(p["name"])}') if pipe_col else ""
        stage = p["stages"][0]
        sets = [f'"{stage_col}" = {_lit(stage)}']
        if stage in entered:
            sets.append(f"{_ident(entered[stage])} = {_lit(stamp)}")
        con.execute(f"update g_new set {', '.join(sets)} {where}")
    out = {"deals": _copy_csv(con, "select * from g_changed union all by name select * from g_new",
                              folder / f"deals-delta-{tag}.csv")}
    acts_map = mapping.get("activities")
    if acts_map:
        aid, at = acts_map["columns"]["activity_id"], acts_map["columns"]["occurred_at"]
        acts = _csv(con, folder, acts_map["file"])
        day_text = day.strftime(fmt.split(" ")[0])
        out["activities"] = _copy_csv(con, f"""
            select * replace (cast({900_000_000 + _serial(day) * NEW_ID_STRIDE}
                                   + row_number() over () as varchar) as "{aid}",
                              {_lit(day_text)} || substr("{at}", {len(day_text) + 1}) as "{at}")
            from {acts} order by {_sample(f'"{aid}"', seed)}
            limit {_count(con, acts, fraction)}""", folder / f"activities-delta-{tag}.csv")
    return out
