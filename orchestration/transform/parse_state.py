"""dbt's parse state between runs.

dbt re-parses the whole project (about 4 s of the demo's 14 s dbt step) when the saved parse
state was made with another profile: its check compares every connection setting, the
warehouse's path included. salespipe's project parses the same wherever the warehouse file
lives (only the file's name reaches the nodes, as dbt's `database`; nothing reads
`target.path`, tests/test_dbt_parse_state.py checks), so each run's state is kept under a key
of the profile *without* the path, and a run against a warehouse elsewhere (a second
warehouse, every test's own) gets that state re-stamped with its own profile's hash: dbt then
parses only what changed. dbt still checks the vars, env vars, project files and its version
itself, and re-parses when they differ. Anything unexpected here only costs the full parse.

The profile is rendered with dbt's own functions (private: dbt-core 1.11's `Profile`), the
way `dbt build` renders it, so the hash is the one dbt compares; tests/test_incremental.py
fails if a run in a new warehouse stops parsing partially. Rendering it imports dbt into the
run's process (~1.5 s of one core, just before dbt's own process starts), and what it renders
depends only on profiles.yml, the variables it reads and dbt's version: so the hashes are kept
under those (`target/parse_state/profiles.json`), and a run with the settings of an earlier
one does not import dbt at all.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import logging
import os
import pprint
import re
import shutil
from pathlib import Path

PARTIAL_PARSE = "partial_parse.msgpack"
PROFILE = "salespipe"
RENDERED = "profiles.json"
RENDERED_KEPT = 32  # settings kept (every test warehouse has its own path)
READS_ENV = re.compile(r"env_var\(\s*['\"]([^'\"]+)['\"]")
log = logging.getLogger(__name__)


def restore_parse_state(project_dir: Path, target_path: Path, dbt_target: str = "duckdb") -> None:
    """Seed a run's target folder with the state kept for this profile, if any (otherwise
    dagster-dbt copies the prepared target/partial_parse.msgpack)."""
    profile = _profile(project_dir, dbt_target)
    kept = _state_file(project_dir, profile)
    if profile is None or not kept.exists():
        return
    destination = project_dir / target_path / PARTIAL_PARSE
    destination.parent.mkdir(parents=True, exist_ok=True)
    _restamp(kept, destination, profile.checksum)


def keep_parse_state(project_dir: Path, target_path: Path, dbt_target: str = "duckdb") -> None:
    """Keep a finished run's (or `dbt parse`'s) state for the next run with this profile;
    replaced atomically, since another run may be reading it."""
    produced = project_dir / target_path / PARTIAL_PARSE
    profile = _profile(project_dir, dbt_target)
    if profile is None or not produced.exists():
        return
    kept = _state_file(project_dir, profile)
    kept.parent.mkdir(parents=True, exist_ok=True)
    scratch = kept.with_name(f".{kept.name}.{os.getpid()}")
    shutil.copyfile(produced, scratch)
    os.replace(scratch, kept)


class _Profile:
    def __init__(self, checksum: str, key: str):
        self.checksum, self.key = checksum, key

    @classmethod
    def of(cls, connection: list[tuple[str, object]]) -> _Profile:
        # dbt's own hash of the connection settings (dbt/parser/manifest.py, profile_hash)
        pathless = [(k, v) for k, v in connection if k != "path"]
        return cls(hashlib.sha256(pprint.pformat(connection).encode()).hexdigest(),
                   hashlib.sha256(pprint.pformat(pathless).encode()).hexdigest()[:16])


def _state_file(project_dir: Path, profile: _Profile | None) -> Path:
    return project_dir / "target" / "parse_state" / f"{profile.key if profile else 'none'}.msgpack"


def _profile(project_dir: Path, dbt_target: str) -> _Profile | None:
    # Spark runs pass --vars (their parse state differs anyway) and need a JVM's settings.
    if dbt_target != "duckdb":
        return None
    try:
        return _known_profile(project_dir, dbt_target)
    except Exception as error:  # noqa: BLE001 - a cache miss, never a failed run
        log.debug("dbt parse state not reused: %s", error)
        return None


def _known_profile(project_dir: Path, dbt_target: str) -> _Profile:
    """The profile as rendered for the same inputs before, or rendered now and kept."""
    inputs = _profile_inputs(project_dir, dbt_target)
    kept = project_dir / "target" / "parse_state" / RENDERED
    seen = _read_json(kept)
    if inputs in seen:
        return _Profile(*seen[inputs])
    env = tuple(sorted(os.environ.items()))
    profile = _rendered_profile(str(project_dir), dbt_target, env)
    seen[inputs] = [profile.checksum, profile.key]
    _replace_json(kept, dict(list(seen.items())[-RENDERED_KEPT:]))
    return profile


def _profile_inputs(project_dir: Path, dbt_target: str) -> str:
    """What dbt's rendering of the profile reads: profiles.yml, the environment variables it
    names, the target and dbt's version (the adapter's fields and defaults)."""
    text = (project_dir / "profiles.yml").read_text()
    env = {name: os.environ.get(name) for name in sorted(set(READS_ENV.findall(text)))}
    versions = [importlib.metadata.version(p) for p in ("dbt-core", "dbt-duckdb")]
    return hashlib.sha256(json.dumps([text, env, dbt_target, versions]).encode()).hexdigest()


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # none yet, or cut short: rendered again, then rewritten
        return {}


def _replace_json(path: Path, value: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.write_text(json.dumps(value))
    os.replace(scratch, path)


@functools.lru_cache(maxsize=8)
def _rendered_profile(project_dir: str, dbt_target: str, env: tuple) -> _Profile:
    from dbt.adapters.factory import load_plugin
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    set_invocation_context(dict(env))
    load_plugin("duckdb")
    raw = read_profile(project_dir)[PROFILE]
    target, data = Profile.render_profile(raw, PROFILE, dbt_target, ProfileRenderer({}))
    data.pop("threads", None)
    credentials = Profile._credentials_from_profile(data, PROFILE, target)
    return _Profile.of(sorted(credentials.connection_info()))


def _restamp(kept: Path, destination: Path, checksum: str) -> None:
    import msgpack

    state = msgpack.unpackb(kept.read_bytes(), strict_map_key=False)
    state["state_check"]["profile_hash"] = {"name": "sha256", "checksum": checksum}
    destination.write_bytes(msgpack.packb(state))
