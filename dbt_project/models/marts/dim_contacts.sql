-- One row per contact (lead or customer) from every source, with the firmographic and
-- BANT-style properties lead scoring uses (intermediate.int_contacts), and when they last
-- interacted. The contact columns are listed (macro contact_shape): int_contacts' build columns
-- (loaded_through, rebuild_signature, _built_at) stay out.
-- Incremental, so a night writes (and the publication copies) only the contacts that changed:
-- the ones int_contacts wrote since this table's newest _built_at, and the ones whose activity
-- figures (int_activity_summary, per contact) differ from the ones held: an activity gained,
-- lost to another contact or deal, or a deal's primary contact changed. The post-hook drops
-- the contacts int_contacts no longer has. It rebuilds itself when empty or built before it
-- was incremental (the pre-hook empties it; _built_at is appended).
{{ incremental_mart_config('contact_id', on_schema_change='append_new_columns',
    pre_hook="{{ clear_for_rebuild(built_through_plan()) }}",
    post_hook="{{ delete_rows_if_any(this, 'contact_id not in (select contact_id from '
              ~ ref('int_contacts') ~ ' where contact_id is not null)', count=is_incremental()) }}") }}
{%- set plan = built_through_plan() %}

with activity_figures as (
    select
        contact_id,
        max(last_activity_at) as last_activity_at,
        cast(sum(activity_count) as {{ dbt.type_bigint() }}) as activity_count
    from {{ ref('int_activity_summary') }}
    where contact_id is not null
    group by contact_id
),

contacts as (
    select * from {{ ref('int_contacts') }}
    {%- if not plan.rebuild %}
    where contact_id in (
        select contact_id from {{ ref('int_contacts') }}
        where _built_at > cast('{{ plan.built_through }}' as {{ dbt.type_timestamp() }})
        union all
        select coalesce(f.contact_id, d.contact_id)
        from activity_figures as f
        full outer join {{ this }} as d on f.contact_id = d.contact_id
        where not (coalesce(f.activity_count, 0) = coalesce(d.activity_count, 0)
                   and {{ same_or_both_null('f.last_activity_at', 'd.last_activity_at') }})
    )
    {%- endif %}
)

select
    {%- for name, _type in contact_shape() %}
    c.{{ name }},
    {%- endfor %}
    f.last_activity_at,
    coalesce(f.activity_count, 0) as activity_count,
    {{ built_at() }} as _built_at
from contacts as c
left join activity_figures as f on c.contact_id = f.contact_id
