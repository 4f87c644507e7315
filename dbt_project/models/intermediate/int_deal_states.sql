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

{#- each tracked field: the change columns that hold its value, and its name in a state -#}
{%- set tracked = {'stage': ('value', 'stage_id'), 'amount': ('amount', 'amount'),
                   'expected_close_date': ('date', 'expected_close_date'),
                   'owner': ('value', 'owner_id')} %}
-- Every change and each deal's creation, in one run per deal ordered by time (field and
-- change_seq make the order total). A moment's state is read at its last row: the latest change
-- of each field up to then is the last one in the run so far, the next row's time is the next
-- moment. One sort of the deals' rows; pairing every moment with every earlier change (then
-- ranking them, pivoting and ordering the moments again) cost several at L.
moments as (
    select deal_id, changed_at as valid_from, change_seq, field, new_value, new_amount,
        new_date, old_value, old_amount, old_date
    from changes
    union all
    select
        deal_id,
        coalesce(created_at, cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})),
        null, null, null, null, null, null, null, null
    from deals
),

{%- set run = 'partition by deal_id order by valid_from, change_seq, field' %}
{%- set so_far = 'over (' ~ run ~ ' rows between unbounded preceding and current row)' %}
{%- set whole = 'over (' ~ run ~ ' rows between unbounded preceding and unbounded following)' %}
-- per field: its latest change so far (new value, and whether that is null: IGNORE NULLS alone
-- would skip a change to null), and its first change's old value; null flags when none
replayed_values as (
    select
        deal_id,
        valid_from,
        lead(valid_from) over ({{ run }}) as next_at
        {%- for field, (column, name) in tracked.items() %}
        {%- set of_field = "case when field = '" ~ field ~ "' then " %},
        {{ last_non_null(of_field ~ 'new_' ~ column ~ ' is null end') }} {{ so_far }}
            as {{ name }}_new_is_null,
        {{ last_non_null(of_field ~ 'new_' ~ column ~ ' end') }} {{ so_far }} as {{ name }}_new,
        {{ first_non_null(of_field ~ 'old_' ~ column ~ ' is null end') }} {{ whole }}
            as {{ name }}_old_is_null,
        {{ first_non_null(of_field ~ 'old_' ~ column ~ ' end') }} {{ whole }} as {{ name }}_old
        {%- endfor %}
    from moments
),

states as (
    select
        v.deal_id,
        v.valid_from,
        v.next_at as valid_to,
        d.created_at is null or v.valid_from >= d.created_at as is_created,
        {%- for field, (column, name) in tracked.items() %}
        {%- set current = 'cast(d.expected_close_date as date)' if column == 'date' else 'd.' ~ name %}
        case
            when v.{{ name }}_new_is_null then null
            when v.{{ name }}_new_is_null is not null then v.{{ name }}_new
            when v.{{ name }}_old_is_null then null
            when v.{{ name }}_old_is_null is not null then v.{{ name }}_old
            else {{ current }}
        end as {{ name }},
        {%- endfor %}
        d.currency,
        d.pipeline_id as current_pipeline_id,
        d.inputs_hash
    from replayed_values as v
    inner join deals as d on v.deal_id = d.deal_id
    -- the last row of each moment
    where v.next_at is null or v.next_at <> v.valid_from
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
