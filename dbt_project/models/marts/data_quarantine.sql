-- Every value or row ingestion could not use, for the data team to fix at the source.
select
    source_system,
    raw_table,
    source_file,
    line,
    column_name,
    value,
    reason,
    load_id,
    quarantined_at
from {{ source('raw', '_quarantine') }}
