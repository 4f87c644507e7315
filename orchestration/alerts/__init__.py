"""Deal alerts outside dbt: the report RevOps reads, the webhook summary, the asset check."""
