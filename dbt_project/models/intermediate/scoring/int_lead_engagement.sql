-- One row per contact and activity type with points: engagement as of the as-of date. Each
-- activity is worth its type's points (seed lead_score_engagement_points) halved every
-- `lead_score_half_life_days` of age, age = whole days from the activity's date to the as-of
-- date. Activities after the as-of day do not count. A view: no model reads it, and what it
-- adds to int_lead_score_parts (one slot per activity type, undecayed) depends only on the
-- as-of date, so it is computed when read instead of rebuilt from every engagement sum nightly.
{{ config(materialized='view') }}
{#- a unit test's seed is a fixture, not a table to count types in: its rows fill two slots #}
{%- set slots = 2 if model.resource_type == 'unit_test' else engagement_slot_count() %}

{%- for k in range(1, slots + 1) %}
select
    contact_id,
    engagement_type_{{ k }} as activity_type,
    engagement_count_{{ k }} as activity_count,
    {{ dbt.datediff('engagement_newest_day_' ~ k, "cast('" ~ as_of_date() ~ "' as date)", 'day') }}
        as newest_age_days,
    {{ engagement_decayed('engagement_points_' ~ k, 'epoch_day') }} as points
from {{ ref('int_lead_score_parts') }}
where engagement_type_{{ k }} is not null
union all
{%- endfor %}
-- no row: the columns' types when the points seed has no type with points (or is not loaded)
select
    cast(null as {{ dbt.type_string() }}) as contact_id,
    cast(null as {{ dbt.type_string() }}) as activity_type,
    cast(null as {{ dbt.type_bigint() }}) as activity_count,
    cast(null as {{ dbt.type_bigint() }}) as newest_age_days,
    cast(null as {{ type_double() }}) as points
from {{ ref('int_lead_score_parts') }}
where 1 = 0
