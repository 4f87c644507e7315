"""Landing export files in the warehouse's `raw` schema with DuckDB's own readers."""
