{{ config(
    materialized='incremental',
    unique_key='activity_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}
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
{%- set since = loaded_watermark(this) %}
select
    a.activity_id,
    a.source_system,
    a.activity_type,
    a.occurred_at,
    a.contact_id,
    a.deal_id,
    a.owner_id,
    a.loaded_at,
    {{ built_at() }} as _built_at
from {{ ref('int_activities') }} as a
{% if is_incremental() -%}
where
    a.loaded_at > {{ since }}
    or (a.contact_from_deal and a.deal_id in (
        select deal_id from ({{ deal_loaded_at(since) }}) as changed
    ))
{%- endif %}
