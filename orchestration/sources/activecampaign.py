"""ActiveCampaign: responses of the v3 API saved as files.

Format facts (developers.activecampaign.com/reference, see docs/export-formats.md): list
endpoints answer `{"<objects>": [...], "meta": {"total": ...}}`; ids are strings; dates are
ISO 8601 with an offset; a deal's `value` is in cents and its `currency` lower case; won and lost
are the deal `status` (0 open, 1 won, 2 lost), not stages; `GET /contacts?include=fieldValues`
side-loads custom field values beside the contacts.
"""

from __future__ import annotations

from orchestration.ingest.readers import json_array_reader
from orchestration.ingest.spec import Column, RawTable
from orchestration.sources.base import SourceObject

SYSTEM = "activecampaign"
FOLDER = "activecampaign"


def _ts(header: str, required: bool = False) -> Column:
    return Column(header, type="timestamp", required=required)


def _table(name: str, *columns: Column, id_column: str | None = "id") -> RawTable:
    return RawTable(SYSTEM, f"activecampaign_{name}", columns, id_column=id_column)


CONTACTS = _table(
    "contacts", Column("id", required=True), Column("email"), Column("firstName"),
    Column("lastName"), Column("phone"), Column("orgname"), _ts("cdate"), _ts("udate"))
CONTACT_FIELD_VALUES = _table(
    "contact_field_values", Column("id", required=True), Column("contact", required=True),
    Column("field", required=True), Column("value"))
FIELDS = _table(
    "fields", Column("id", required=True), Column("title", required=True), Column("type"),
    Column("perstag"))
DEALS = _table(
    "deals", Column("id", required=True), Column("title"), Column("value", type="number"),
    Column("currency"), Column("group", required=True), Column("stage", required=True),
    Column("owner"), Column("contact"), Column("status", required=True),
    Column("percent", type="number"), _ts("cdate", required=True), _ts("mdate"), _ts("edate"))
DEAL_GROUPS = _table(
    "deal_groups", Column("id", required=True), Column("title", required=True),
    Column("currency"), _ts("cdate"), _ts("udate"))
DEAL_STAGES = _table(
    "deal_stages", Column("id", required=True), Column("title", required=True),
    Column("group", required=True), Column("order", type="integer"), _ts("cdate"), _ts("udate"))
DEAL_ACTIVITIES = _table(
    "deal_activities", Column("id", required=True), Column("d_id", required=True),
    Column("d_stageid"), Column("userid"), _ts("cdate", required=True),
    Column("dataType", required=True), Column("dataAction"), Column("dataOldval"),
    Column("dataNewval"))
USERS = _table(
    "users", Column("id", required=True), Column("username"), Column("firstName"),
    Column("lastName"), Column("email"), Column("group"))
GROUPS = _table("groups", Column("id", required=True), Column("title", required=True))
ACTIVITIES = _table(
    "activities", Column("id", required=True), Column("contact"), Column("deal"),
    Column("userid"), _ts("tstamp", required=True), Column("type", required=True))

OBJECTS = (
    SourceObject("contacts", CONTACTS, "contacts*.json", json_array_reader("contacts")),
    SourceObject("contact_field_values", CONTACT_FIELD_VALUES, "contacts*.json",
                 json_array_reader("fieldValues", optional=True)),
    SourceObject("fields", FIELDS, "fields*.json", json_array_reader("fields")),
    SourceObject("deals", DEALS, "deals*.json", json_array_reader("deals")),
    SourceObject("deal_groups", DEAL_GROUPS, "dealGroups*.json", json_array_reader("dealGroups")),
    SourceObject("deal_stages", DEAL_STAGES, "dealStages*.json", json_array_reader("dealStages")),
    SourceObject("deal_activities", DEAL_ACTIVITIES, "dealActivities*.json",
                 json_array_reader("dealActivities")),
    SourceObject("users", USERS, "users*.json", json_array_reader("users")),
    SourceObject("groups", GROUPS, "groups*.json", json_array_reader("groups")),
    SourceObject("activities", ACTIVITIES, "activities*.json", json_array_reader("activities")),
)
