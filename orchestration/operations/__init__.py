"""Nightly operations: the schedule, the export-folder sensor, source freshness checks and the
warehouse run lock."""
