-- One row per contact per scoring date (the as-of date of the run), kept across runs so a lead's
-- warming up can be followed. Re-running a date replaces that date's rows (delete+insert on
-- score_id), so it never duplicates them; other dates are left as they are.
{{ config(
    materialized='incremental',
    unique_key='score_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

select
    contact_id || '@' || cast(scored_as_of as {{ dbt.type_string() }}) as score_id,
    contact_id,
    scored_as_of,
    fit_score,
    engagement_score,
    total_score,
    grade,
    is_sales_ready
from {{ ref('lead_scores') }}
