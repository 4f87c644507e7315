"""The dbt project in Dagster: dbt assets and translator, the prepared manifest, parse state
between runs, run folders, and the dbt CLI resource."""
