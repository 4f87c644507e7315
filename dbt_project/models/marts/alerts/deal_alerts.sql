-- One row per deal and problem ever flagged, with its lifecycle across runs. The alerts true
-- tonight come from deal_alerts_current; this incremental model merges them into what the
-- previous runs recorded, keyed on (deal_id, alert_type):
--   still true            -> ongoing, first_flagged_at kept ('new' when first flagged this as-of)
--   true, not seen before -> new, first_flagged_at = as-of date (also after having been resolved)
--   no longer true        -> resolved, resolved_at = the as-of date it was first seen resolved
-- Every row is recomputed from the previous state and the as-of date only, so repeating a run
-- for the same as-of changes nothing. full_refresh=false: `dbt build --full-refresh` keeps the
-- history instead of rebuilding it from tonight's alerts alone.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['deal_id', 'alert_type'],
    full_refresh=false,
    on_schema_change='append_new_columns',
) }}
{%- set carried = ['deal_name', 'owner_id', 'owner_name', 'team', 'pipeline_id',
                   'pipeline_name', 'stage_id', 'stage_name', 'amount', 'currency', 'reason',
                   'metric_value', 'threshold_value', 'threshold_basis'] %}
with current_alerts as (
    select * from {{ ref('deal_alerts_current') }}
),

previous as (
{%- if is_incremental() %}
    select * from {{ this }}
{%- else %}
    select
        deal_id, alert_type, {{ carried | join(', ') }},
        cast(null as date) as first_flagged_at,
        cast(null as date) as resolved_at
    from current_alerts
    where 1 = 0
{%- endif %}
),

merged as (
    select
        coalesce(c.deal_id, p.deal_id) as deal_id,
        coalesce(c.alert_type, p.alert_type) as alert_type,
        {%- for col in carried %}
        case when c.deal_id is not null then c.{{ col }} else p.{{ col }} end as {{ col }},
        {%- endfor %}
        c.deal_id is not null as is_active,
        p.first_flagged_at as previous_first_flagged_at,
        p.resolved_at as previous_resolved_at,
        cast('{{ as_of_date() }}' as date) as as_of_date
    from current_alerts as c
    full outer join previous as p
        on c.deal_id = p.deal_id and c.alert_type = p.alert_type
),

dated as (
    select
        *,
        case
            -- still true: keep when it was first flagged (an earlier as-of re-dates it)
            when is_active and previous_resolved_at is null
                and previous_first_flagged_at is not null
                then least(previous_first_flagged_at, as_of_date)
            when is_active then as_of_date
            else previous_first_flagged_at
        end as first_flagged_at,
        case
            when is_active then null
            else coalesce(previous_resolved_at, as_of_date)
        end as resolved_at
    from merged
)

select
    deal_id || ':' || alert_type as alert_id,
    deal_id,
    alert_type,
    case
        when not is_active then 'resolved'
        when first_flagged_at = as_of_date then 'new'
        else 'ongoing'
    end as status,
    {{ carried | join(',\n    ') }},
    first_flagged_at,
    resolved_at,
    as_of_date as last_checked_at
from dated
