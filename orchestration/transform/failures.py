"""A failed dbt build in a few lines: each failing model, seed, snapshot or test with dbt's
message, read from the build's run_results.json (dbt's own output is in the run's log)."""

from __future__ import annotations

from typing import Any

from orchestration.transform.null_columns import describe

FAILED = {"error", "fail", "runtime error"}
SHOWN = 5  # failures named; a broken staging model fails everything after it


def _node(unique_id: str) -> tuple[str, str]:
    """("model", "stg_x") from "model.salespipe.stg_x"; tests end in a hash, left out."""
    kind, _, name = unique_id.split(".", 2)
    return kind, name.split(".")[0]


def _message(text: str | None, lines: int = 3) -> str:
    kept = [line.strip() for line in (text or "no message").strip().splitlines() if line.strip()]
    return " / ".join(kept[:lines])


def _why(manifest: dict[str, Any] | None, unique_id: str) -> str:
    """A test's description from its yml, on a line of its own: where a test guards an input
    problem, it says what the data means and the fix (dbt's own message is a row count)."""
    node = ((manifest or {}).get("nodes") or {}).get(unique_id) or {}
    text = " ".join((node.get("description") or "").split())
    return f"\n  {text}" if text and unique_id.startswith("test.") else ""


def failed_nodes(run_results: dict[str, Any],
                 null_columns: dict[str, dict[str, int]] | None = None,
                 manifest: dict[str, Any] | None = None) -> list[str]:
    """One entry per node that errored or whose test failed: "test unique_x_id: Got 1 result",
    then the test's description where it has one; a not_null_columns test names its null
    columns (`null_columns`, by test unique_id)."""
    lines = []
    for result in run_results.get("results", []):
        if result.get("status") in FAILED:
            unique_id = result["unique_id"]
            kind, name = _node(unique_id)
            columns = (null_columns or {}).get(unique_id)
            text = describe(columns) if columns else _message(result.get("message"))
            lines.append(f"{kind} {name}: {text}{_why(manifest, unique_id)}")
    return lines


def dbt_failure(run_results: dict[str, Any] | None, exit_code: int | None,
                null_columns: dict[str, dict[str, int]] | None = None,
                manifest: dict[str, Any] | None = None) -> str:
    """The message of a failed `dbt build`, naming what failed (and why, where a test says)."""
    lines = failed_nodes(run_results or {}, null_columns, manifest)
    if not lines:
        return (f"dbt build failed (exit code {exit_code}) before running any model: dbt's "
                "messages are in the full log")
    more = [f"... and {len(lines) - SHOWN} more"] if len(lines) > SHOWN else []
    return "\n".join([f"dbt build: {len(lines)} failed", *lines[:SHOWN], *more])
