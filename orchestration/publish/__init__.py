"""Publication for BI tools: the marts copied into a DuckDB file and Parquet files, replaced
atomically after every good run."""
