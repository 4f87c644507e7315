"""Each run's dbt target folder is kept for debugging, but not forever: the newest ten stay,
older idle ones are removed after a run, and a folder a run may still be writing is never
touched."""

import os
import time

from orchestration.transform.run_folders import prune_run_folders


def _folder(project, name, age_hours, results=True):
    folder = project / "target" / name
    folder.mkdir(parents=True)
    stamp = time.time() - age_hours * 3600
    if results:
        (folder / "run_results.json").write_text("{}")
        os.utime(folder / "run_results.json", (stamp, stamp))
    os.utime(folder, (stamp, stamp))
    return folder


def test_old_run_folders_go_recent_and_busy_ones_stay(tmp_path):
    old = [_folder(tmp_path, f"dbt_models-{i:07d}-aaaaaaa", age_hours=48 + i) for i in range(12)]
    busy = _folder(tmp_path, "dbt_models-busy000-bbbbbbb", age_hours=0.1, results=False)
    kept_state = tmp_path / "target" / "parse_state"
    kept_state.mkdir()

    pruned = prune_run_folders(tmp_path, keep=10)

    # newest ten: the busy one and old[0..8]; old[9..11] are beyond them and idle
    assert sorted(pruned) == sorted(old[9:])
    assert all(not p.exists() for p in old[9:])
    assert all(p.exists() for p in [*old[:9], busy, kept_state])


def test_a_folder_beyond_the_newest_ten_stays_while_it_may_be_in_use(tmp_path):
    for i in range(10):
        _folder(tmp_path, f"dbt_models-new{i:04d}-ccccccc", age_hours=0.01)
    running = _folder(tmp_path, "dbt_models-run0000-ddddddd", age_hours=0.5)

    assert prune_run_folders(tmp_path, keep=10) == []
    assert running.exists()
