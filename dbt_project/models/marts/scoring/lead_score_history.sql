-- The changes of each contact's grade and sales-readiness, one row per change (with the scores on
-- that scoring date), kept across runs: a contact gets a row on its first scoring date, on each
-- date its grade or is_sales_ready differs from its latest row before that date, and a row with
-- change_type 'removed' (no grade, no scores) on the date it is no longer scored. A night whose
-- scores cross no grade boundary adds nothing, so the table grows with changes, not with
-- contacts x nights. The state on day D is the contact's latest row on or before D.
-- Re-running a date replaces all of that date's rows (delete+insert on scored_as_of), compared
-- with the rows before that date, so it never duplicates them. With var lead_score_history_days
-- N > 0, the post-hook deletes what is no longer needed to know the state in the last N days.
{{ config(
    materialized='incremental',
    unique_key='scored_as_of',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    meta={'publish_partition_by': 'scored_as_of'},
    post_hook="{{ drop_expired_score_history() }}",
) }}

{%- set scored_on = "cast('" ~ as_of_date() ~ "' as date)" %}

with scores as (
    select contact_id, fit_score, engagement_score, total_score, grade, is_sales_ready
    from {{ ref('lead_scores') }}
),

-- each contact's latest row before this scoring date: what it was last recorded as
recorded as (
    {% if is_incremental() -%}
    select contact_id, grade, is_sales_ready, change_type
    from (
        select
            contact_id,
            grade,
            is_sales_ready,
            {#- a table written before change_type existed holds a copy per night, no removals #}
            {% if 'change_type' in adapter.get_columns_in_relation(this) | map(attribute='name')
                | map('lower') | list -%}
            change_type,
            {%- else -%}
            cast(null as {{ dbt.type_string() }}) as change_type,
            {%- endif %}
            row_number() over (partition by contact_id order by scored_as_of desc) as recency
        from {{ this }}
        where scored_as_of < {{ scored_on }}
    ) as ranked
    where recency = 1
    {%- else -%}
    -- nothing recorded yet: the same columns, no rows
    select contact_id, grade, is_sales_ready, cast(null as {{ dbt.type_string() }}) as change_type
    from scores
    where 1 = 0
    {%- endif %}
),

compared as (
    select
        coalesce(s.contact_id, r.contact_id) as contact_id,
        s.fit_score,
        s.engagement_score,
        s.total_score,
        s.grade,
        s.is_sales_ready,
        case
            when s.contact_id is null then 'removed'
            when r.contact_id is null or r.change_type = 'removed' then 'first_scored'
            when s.grade <> r.grade and s.is_sales_ready <> r.is_sales_ready
                then 'grade_and_sales_ready'
            when s.grade <> r.grade then 'grade'
            when s.is_sales_ready <> r.is_sales_ready then 'sales_ready'
        end as change_type
    from scores as s
    full outer join recorded as r on s.contact_id = r.contact_id
    -- a contact removed before and still not scored is not removed again
    where s.contact_id is not null or coalesce(r.change_type, '') <> 'removed'
)

select
    contact_id || '@' || cast({{ scored_on }} as {{ dbt.type_string() }}) as score_id,
    contact_id,
    {{ scored_on }} as scored_as_of,
    change_type,
    fit_score,
    engagement_score,
    total_score,
    grade,
    is_sales_ready,
    {{ built_at() }} as _built_at
from compared
where change_type is not null
