-- Each deal's tracked state through time, replayed from int_deal_changes: one row per deal and
-- moment its state changed (its creation and every change), valid from valid_from until the
-- next row's (valid_to; null = still). A field's value at a moment is the new value of its
-- latest change up to then; before its first change, that change's old value; a field that
-- never changed has its current value. The pipeline and outcome follow the stage (stage ids
-- belong to one pipeline); the currency is the current one (no CRM's history records it).
-- is_created is false for the moments before the deal's creation.
-- Incremental (macros/deal_states.sql): a night replays the deals whose int_deals row or
-- change rows differ from what their rows were built from (inputs_hash), drops the deals
-- int_deals no longer has, and a change of the stages' pipelines or outcomes rebuilds every deal.
-- A table built before the model was incremental gets the build columns appended and is rebuilt.
{{ config(
    materialized='incremental',
    unique_key='deal_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ clear_for_rebuild(deal_states_plan()) }}",
    post_hook="{{ drop_vanished_deal_states() }}",
) }}
{%- set plan = deal_states_plan() %}
{%- set inputs = deal_state_inputs() %}
with deal_rows as (
    select * from {{ ref('int_deals') }}
),

change_rows as (
    select * from {{ ref('int_deal_changes') }}
    where field in ('stage', 'amount', 'expected_close_date', 'owner')
),

-- what each deal's states are built from, hashed
fingerprints as (
    select d.deal_id, d.deal_hash + coalesce(c.changes_hash, 0) as inputs_hash
    from (
        select deal_id, {{ row_fingerprint(inputs.deal) }} as deal_hash from deal_rows
    ) as d
    left join (
        select deal_id, sum({{ row_fingerprint(inputs.change) }}) as changes_hash
        from change_rows
        group by deal_id
    ) as c on d.deal_id = c.deal_id
),

replayed as (
    select f.deal_id, f.inputs_hash from fingerprints as f
    {%- if not plan.rebuild %}
    -- a deal's current state (one row) holds the hash its rows were built from
    where not exists (
        select 1 from {{ this }} as held
        where held.valid_to is null and held.deal_id = f.deal_id
            and held.inputs_hash = f.inputs_hash
    )
    {%- endif %}
),

deals as (
    select d.*, r.inputs_hash
    from deal_rows as d
    inner join replayed as r on d.deal_id = r.deal_id
),

changes as (
    select c.* from change_rows as c
    inner join replayed as r on c.deal_id = r.deal_id
),

instants as (
    select deal_id, changed_at as valid_from from changes
    union
    select
        deal_id,
        coalesce(created_at, cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }}))
    from deals
),

ranked as (
    select
        c.*,
        row_number() over (partition by c.deal_id, c.field order by c.changed_at, c.change_seq)
            as change_number
    from changes as c
),

-- the latest change of each field up to each moment
latest as (
    select
        i.deal_id,
        i.valid_from,
        c.field,
        c.new_value,
        c.new_amount,
        c.new_date,
        row_number() over (
            partition by i.deal_id, i.valid_from, c.field
            order by c.changed_at desc, c.change_seq desc
        ) as recency
    from instants as i
    inner join changes as c on c.deal_id = i.deal_id and c.changed_at <= i.valid_from
),

field_values as (
    select
        i.deal_id,
        i.valid_from,
        f.field,
        case when l.deal_id is not null then l.new_value else f.old_value end as value_text,
        case when l.deal_id is not null then l.new_amount else f.old_amount end as value_amount,
        case when l.deal_id is not null then l.new_date else f.old_date end as value_date
    from instants as i
    inner join ranked as f on f.deal_id = i.deal_id and f.change_number = 1
    left join latest as l
        on l.deal_id = i.deal_id and l.valid_from = i.valid_from and l.field = f.field
        and l.recency = 1
),

pivoted as (
    select
        i.deal_id,
        i.valid_from,
        max(case when v.field = 'stage' then 1 else 0 end) as has_stage,
        max(case when v.field = 'stage' then v.value_text end) as stage_id,
        max(case when v.field = 'amount' then 1 else 0 end) as has_amount,
        max(case when v.field = 'amount' then v.value_amount end) as amount,
        max(case when v.field = 'expected_close_date' then 1 else 0 end) as has_close_date,
        max(case when v.field = 'expected_close_date' then v.value_date end)
            as expected_close_date,
        max(case when v.field = 'owner' then 1 else 0 end) as has_owner,
        max(case when v.field = 'owner' then v.value_text end) as owner_id
    from instants as i
    left join field_values as v on v.deal_id = i.deal_id and v.valid_from = i.valid_from
    group by i.deal_id, i.valid_from
),

states as (
    select
        p.deal_id,
        p.valid_from,
        lead(p.valid_from) over (partition by p.deal_id order by p.valid_from) as valid_to,
        d.created_at is null or p.valid_from >= d.created_at as is_created,
        case when p.has_stage = 1 then p.stage_id else d.stage_id end as stage_id,
        case when p.has_amount = 1 then p.amount else d.amount end as amount,
        d.currency,
        cast(case when p.has_close_date = 1 then p.expected_close_date
            else cast(d.expected_close_date as date) end as date) as expected_close_date,
        case when p.has_owner = 1 then p.owner_id else d.owner_id end as owner_id,
        d.pipeline_id as current_pipeline_id,
        d.inputs_hash
    from pivoted as p
    inner join deals as d on p.deal_id = d.deal_id
)

select
    s.deal_id,
    s.valid_from,
    s.valid_to,
    s.is_created,
    coalesce(ps.pipeline_id, s.current_pipeline_id) as pipeline_id,
    s.stage_id,
    case when ps.is_won then 'won' when ps.is_lost then 'lost' else 'open' end as outcome,
    s.amount,
    s.currency,
    s.expected_close_date,
    s.owner_id,
    s.inputs_hash,
    '{{ plan.signature }}' as rebuild_signature,
    {{ built_at() }} as _built_at
from states as s
left join {{ ref('int_pipeline_stages') }} as ps on s.stage_id = ps.stage_id
