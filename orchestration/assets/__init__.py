"""Dagster assets: raw ingestion per source object, and every dbt model."""
