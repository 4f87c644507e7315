{{ incremental_mart_config('activity_id') }}
-- With SALESPIPE_PUBLISH_FACTS_BY_MONTH=true published as Parquet by month of occurred_at (new
-- activities land in the latest months, so a night rewrites those and links the others;
-- orchestration/publish/partitions.py); else one file.
{{ config(meta={'publish_partition_by': {'month_of': 'occurred_at', 'as': 'activity_month'}}) }}
-- One row per sales or marketing touch (emails sent, opened, clicked, calls, meetings, form
-- fills, site visits, notes, tasks) with the contact, deal and owner it belongs to: the touches
-- of intermediate.int_activities, where every CRM is brought to this shape.
-- Incremental: a run rebuilds the activities whose record landed after the newest `loaded_at`
-- already here (new and re-exported ones), plus ActiveCampaign deal-log activities of deals
-- that changed (their contact comes from the deal). A change to owners or the activity_types
-- seed needs `dbt build --full-refresh -s fct_activities`. The activity logs it reads are
-- incremental staging tables (same watermark idea); an activity deleted from the exports (a
-- re-landed file without it) stays in them and here until
-- `dbt build --full-refresh -s <its staging model>+` (e.g. stg_hubspot__activities+, which
-- rebuilds fct_activities too).
{%- set since = loaded_watermark_literal(this) if is_incremental() else none %}
with touches as (
    select * from {{ ref('int_activities') }}
    {%- if is_incremental() %}
    where loaded_at > {{ since }}
    union all
    -- deal-log activities landed before, of deals changed since: their contact is the deal's
    select * from {{ ref('int_activities') }}
    where
        contact_from_deal
        and loaded_at <= {{ since }}
        and deal_id in (select deal_id from ({{ deal_loaded_at(since) }}) as changed)
    {%- endif %}
)

select
    activity_id,
    source_system,
    activity_type,
    occurred_at,
    contact_id,
    deal_id,
    owner_id,
    loaded_at,
    {{ built_at() }} as _built_at
from touches
