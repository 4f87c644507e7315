-- One row per contact per scoring date (the as-of date of the run), kept across runs so a lead's
-- warming up can be followed. Re-running a date replaces all of that date's rows (delete+insert
-- on scored_as_of, which also finds them without reading older dates), so it never duplicates
-- them; other dates are left as they are. With var lead_score_history_days N > 0, the post-hook
-- deletes the dates more than N days before the run's as-of date (a retention RevOps chooses;
-- 0, the default, keeps every date).
{{ config(
    materialized='incremental',
    unique_key='scored_as_of',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    meta={'publish_partition_by': 'scored_as_of'},
    post_hook="{{ drop_expired_score_history() }}",
) }}

select
    contact_id || '@' || cast(scored_as_of as {{ dbt.type_string() }}) as score_id,
    contact_id,
    scored_as_of,
    fit_score,
    engagement_score,
    total_score,
    grade,
    is_sales_ready,
    {{ built_at() }} as _built_at
from {{ ref('lead_scores') }}
