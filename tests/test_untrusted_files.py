"""The drop folder as an attacker or a careless user fills it (issue 30): nothing outside the
source folder lands, no partial file lands, file names are never patterns, wide files stay
bounded, and input that salespipe cannot use stops with its own message, at once.

Each test lands only the ingest assets it needs into the workspace's own warehouse.
"""

import functools
import json
import os
import threading
from pathlib import Path

import dagster as dg

from orchestration.pipeline import failed_steps

SECRET = "TOP-SECRET-OUTSIDE"


@functools.cache
def _definitions():
    from orchestration.pipeline import assets_and_resources

    return assets_and_resources()


def _land(*tables: str, instance: dg.DagsterInstance | None = None):
    """Materialize the ingest assets of `tables` (raw table names), without their checks."""
    assets, resources = _definitions()
    selection = dg.AssetSelection.assets(*[dg.AssetKey(["raw", t]) for t in tables]) \
        .required_multi_asset_neighbors().without_checks()
    return dg.materialize(assets, resources=resources, selection=selection,
                          raise_on_error=False, instance=instance)


def _failures(result) -> dict[str, str]:
    events = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in events  # bad input: retrying cannot help
    return dict(failed_steps(result))


def _everything(ws) -> str:
    """Every value of every raw table, as one text (to look for what must not be there)."""
    tables = ws.query("select table_name from information_schema.tables "
                      "where table_schema = 'raw'")
    return "\n".join(str(ws.query(f'select * from raw."{t}"')) for t, in tables)


def test_nothing_outside_the_source_folder_lands(workspace, tmp_path, monkeypatch):
    ws = workspace.copy_fixture()
    outside = tmp_path / "outside"
    outside.mkdir()
    deals = (ws.source / "hubspot" / "deals.csv").read_text()
    (outside / "secret.csv").write_text(deals.replace("Acme renewal", SECRET))
    # a linked file, a `..` pattern in mapping.yml, a linked CRM folder
    (ws.source / "hubspot" / "deals.csv").unlink()
    (ws.source / "hubspot" / "deals.csv").symlink_to(outside / "secret.csv")
    mapping = ws.source / "generic" / "mapping.yml"
    mapping.write_text(mapping.read_text().replace("file: deals*.csv",
                                                   "file: ../../outside/secret.csv"))
    ac = ws.source / "activecampaign"
    ac.rename(outside / "activecampaign")
    page = json.loads((outside / "activecampaign" / "deals.json").read_text())
    page["deals"][0]["title"] = SECRET
    (outside / "activecampaign" / "deals.json").write_text(json.dumps(page))
    ac.symlink_to(outside / "activecampaign")

    failed = _failures(_land("hubspot_deals", "generic_deals", "activecampaign_deals"))
    assert "hubspot/deals.csv: is a symbolic link" in failed["ingest_hubspot_deals"]
    assert "SALESPIPE_ALLOW_LINKS_INSIDE" in failed["ingest_hubspot_deals"]
    assert "deals.file: the file pattern '../../outside/secret.csv' goes up with '..'" \
        in failed["ingest_generic_deals"]
    assert "a linked folder" in failed["ingest_activecampaign_deals"]
    assert SECRET not in _everything(ws)

    # links allowed: one whose target stays inside lands, one leaving the folder still not
    monkeypatch.setenv("SALESPIPE_ALLOW_LINKS_INSIDE", "true")
    (ws.source / "kept").mkdir()
    (ws.source / "kept" / "deals-2024.csv").write_text(deals)
    (ws.source / "hubspot" / "deals.csv").unlink()
    (ws.source / "hubspot" / "deals.csv").symlink_to(ws.source / "kept" / "deals-2024.csv")
    (ws.source / "hubspot" / "deals-old.csv").symlink_to(outside / "secret.csv")
    failed = _failures(_land("hubspot_deals"))
    assert "deals-old.csv: is a symbolic link to" in failed["ingest_hubspot_deals"]
    assert "outside the source folder" in failed["ingest_hubspot_deals"]
    (ws.source / "hubspot" / "deals-old.csv").unlink()
    assert _land("hubspot_deals").success
    assert ws.scalar("select count(*) from raw.hubspot_deals") == 3
    assert SECRET not in _everything(ws)


def test_a_file_still_being_written_lands_only_once_whole(workspace):
    ws = workspace.copy_fixture()
    path = ws.source / "hubspot" / "deals.csv"
    header, first = path.read_text().splitlines()[:2]
    path.write_text(header + "\n" + "\n".join(
        first.replace("101,", f"{n},", 1) for n in range(1000, 3000)) + "\n")
    stop, written = threading.Event(), [2000]

    def upload():  # an upload in progress: rows keep arriving while salespipe reads
        with path.open("a") as fh:
            while not stop.is_set():
                fh.write(first.replace("101,", f"{5000 + written[0]},", 1) + "\n")
                fh.flush()
                written[0] += 1
                stop.wait(0.002)

    writer = threading.Thread(target=upload)
    writer.start()
    instance = dg.DagsterInstance.ephemeral()
    try:
        result = _land("hubspot_deals", instance=instance)
    finally:
        stop.set()
        writer.join()
    assert result.success
    warnings = [e.user_message for e in instance.all_logs(result.run_id)
                if "still being written" in (e.user_message or "")]
    assert warnings and "deals.csv" in warnings[0] and "next run" in warnings[0]
    assert ws.scalar("select count(*) from raw.hubspot_deals") == 0  # nothing partial
    assert ws.scalar("select count(*) from raw._loads") == 0

    assert _land("hubspot_deals").success  # the upload has ended: the whole file lands
    assert ws.scalar("select count(*) from raw.hubspot_deals") == written[0]


def test_file_names_are_read_as_names_never_as_patterns(workspace):
    ws = workspace.copy_fixture()
    folder = ws.source / "hubspot"
    text = (folder / "deals.csv").read_text()
    (folder / "deals.csv").unlink()

    def export(name: str, first_id: int) -> None:
        (folder / name).write_text(text.replace("\n101,", f"\n{first_id},")
                                   .replace("\n102,", f"\n{first_id + 1},")
                                   .replace("\n103,", f"\n{first_id + 2},"))

    export("deals f.csv", 100)
    export("deals [final].csv", 200)
    export("deals*.csv", 300)
    assert _land("hubspot_deals").success
    rows = ws.query("select _source_file, list(record_id order by record_id) "
                    "from raw.hubspot_deals group by 1")
    assert {Path(f).name: ids for f, ids in rows} == {
        "deals f.csv": ["100", "101", "102"],
        "deals [final].csv": ["200", "201", "202"],
        "deals*.csv": ["300", "301", "302"],
    }


def test_wide_files_load_and_wider_than_the_cap_are_refused(workspace, monkeypatch):
    ws = workspace.copy_fixture()
    path = ws.source / "hubspot" / "deals.csv"
    lines = path.read_text().splitlines()
    extra = [f"Custom property {i}" for i in range(2000 - len(lines[0].split(",")))]
    path.write_text("\n".join([lines[0] + "," + ",".join(extra)]
                              + [line + "," + ",".join(["7"] * len(extra))
                                 for line in lines[1:]]) + "\n")
    monkeypatch.setenv("SALESPIPE_MAX_COLUMNS_PER_FILE", "1500")
    failed = _failures(_land("hubspot_deals"))
    assert "deals.csv: 2,000 columns, more than the 1,500 a file may have " \
           "(SALESPIPE_MAX_COLUMNS_PER_FILE)" in failed["ingest_hubspot_deals"]

    monkeypatch.delenv("SALESPIPE_MAX_COLUMNS_PER_FILE")  # default: 2,000
    assert _land("hubspot_deals").success
    columns = ws.scalar("select count(*) from information_schema.columns "
                        "where table_schema = 'raw' and table_name = 'hubspot_deals'")
    assert columns >= 2000
    last = f"custom_property_{len(extra) - 1}"
    assert ws.scalar(f"select count(*) from raw.hubspot_deals where {last} = '7'") == 3


def test_input_salespipe_cannot_use_stops_with_its_own_message_at_once(workspace):
    ws = workspace.copy_fixture()
    hubspot, ac = ws.source / "hubspot", ws.source / "activecampaign"
    deals = hubspot / "deals.csv"
    deals.write_text(deals.read_text().replace("Deal Type", "_line", 1))
    contacts = hubspot / "contacts.csv"
    os.rename(contacts, os.fsencode(hubspot) + b"/contacts-\xe9t\xe9.csv")  # Latin-1 name
    pipelines = json.loads((hubspot / "pipelines.json").read_text())
    for pipeline in pipelines["results"]:
        del pipeline["stages"]
    (hubspot / "pipelines.json").write_text(json.dumps(pipelines))
    owners = json.loads((hubspot / "owners.json").read_text())
    owners["results"][0][""] = "x"
    (hubspot / "owners.json").write_text(json.dumps(owners))
    page = json.loads((ac / "deals.json").read_text())
    page["deals"][0]["ID"] = page["deals"][0]["id"]
    (ac / "deals.json").write_text(json.dumps(page))
    mapping = ws.source / "generic" / "mapping.yml"
    mapping.write_text(mapping.read_text().replace(
        'date_formats: ["%m/%d/%Y %H:%M", "%m/%d/%Y"]', 'date_formats: "%m/%d/%Y"'))

    failed = _failures(_land("hubspot_deals", "hubspot_contacts", "hubspot_pipeline_stages",
                             "hubspot_owners", "activecampaign_deals", "generic_deals"))
    expected = {
        "ingest_hubspot_deals": ["deals.csv: has a column named '_line'", "rename that column"],
        "ingest_hubspot_contacts": ["contacts-\\xe9t\\xe9.csv: the file name is not UTF-8",
                                    "rename the file"],
        "ingest_hubspot_pipelines": [("pipelines.json: the records of 'results' have no "
                                     "'stages'"), "save the whole response"],
        "ingest_hubspot_owners": ["owners.json: an object in results has an empty key",
                                  "fix or remove that key"],
        "ingest_activecampaign_deals": [("deals.json: an object in deals has the keys 'id' and "
                                        "'ID', which differ only in case"), "rename or remove"],
        "ingest_generic_deals": [("mapping.yml: date_formats must be a list of formats, got "
                                 "'%m/%d/%Y'"), 'write it like date_formats: ["%Y-%m-%d"]'],
    }
    for step, parts in expected.items():
        for part in parts:
            assert part in failed[step], (step, failed[step])
        assert "Error:" not in failed[step] and "Traceback" not in failed[step]
