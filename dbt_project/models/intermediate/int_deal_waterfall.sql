-- pipeline_waterfall's rows per deal: each deal's opening, moves (new, pulled_in, increased,
-- other_in, pushed_out, decreased, won, lost, other_out) and closing in each month and quarter,
-- per group (all, owner, team), pipeline and currency, followed from the period's start to its
-- end (the current period to the end of the as-of day). Every move of a deal's state
-- (int_deal_states) in a period's window is one of the categories; a deal counts for the owner
-- it had at each moment, and that owner's team (int_owners). The mart adds these rows up.
-- Incremental (macros/pipeline_waterfall.sql explains what a night recomputes and why the rest
-- cannot have changed): the deals int_deal_states replayed or dropped, the deals with a move
-- between the last build's as-of day and this one's, and the periods that started in between;
-- a change of the owners' teams, or an earlier as-of date, rebuilds it.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=["{{ clear_for_rebuild(deal_waterfall_plan()) }}",
              "{{ clear_recomputed_deal_waterfall(deal_waterfall_plan()) }}"],
) }}
{%- set plan = deal_waterfall_plan() %}
{%- set categories = ['new', 'pulled_in', 'increased', 'other_in',
                      'pushed_out', 'decreased', 'won', 'lost', 'other_out'] %}
with
{%- if not plan.rebuild %}
recomputed_deals as (
    {{ deal_waterfall_recomputed_deals(plan) }}
),
{%- endif %}

states as (
    select
        s.deal_id, s.valid_from, s.valid_to, s.is_created, s.outcome, s.pipeline_id, s.currency,
        s.expected_close_date,
        s.is_created and s.outcome = 'open' and s.expected_close_date is not null as in_scope,
        cast(coalesce(s.amount, 0) as {{ type_exact_decimal() }}) as exact_amount,
        coalesce(s.owner_id, 'no owner') as owner_key,
        coalesce(o.team, 'Unassigned') as team_key
    from {{ ref('int_deal_states') }} as s
    left join {{ ref('int_owners') }} as o on s.owner_id = o.owner_id
    {%- if not plan.rebuild %}
    where s.deal_id in (select deal_id from recomputed_deals)
        {%- if plan.new_periods_from %}
        -- the periods that started since the last build: every deal's states from the first
        -- of them on (a deal's states from a moment on are a run of its rows, so the lag
        -- below still finds the state before each move in those periods)
        or s.valid_to is null
        or s.valid_to >= cast('{{ plan.new_periods_from }}' as {{ dbt.type_timestamp() }})
        {%- endif %}
    {%- endif %}
),

timeline as (
    {%- set prev = ['is_created', 'in_scope', 'outcome', 'pipeline_id', 'currency',
                    'expected_close_date', 'exact_amount', 'owner_key', 'team_key'] %}
    select
        s.*,
        {%- for c in prev %}
        lag(s.{{ c }}) over (partition by s.deal_id order by s.valid_from) as prev_{{ c }}{{ ',' if not loop.last }}
        {%- endfor %}
    from states as s
),

{#- Each state counts once per group type (all, owner, team) and period type, and each of
    those moves once per kind of flow. The fan-out is a join with small constant tables, not
    a union of copies: a union read by several selects is materialized whole (DuckDB kept
    six copies of every state in memory), this streams. -#}
fanout as (
    {%- for group_type in ['all', 'owner', 'team'] %}
    {%- set outer = loop %}
    {%- for period_type in waterfall_period_types() %}
    select '{{ group_type }}' as group_type, '{{ period_type }}' as period_type
    {{- '' if outer.last and loop.last else ' union all' }}
    {%- endfor %}
    {%- endfor %}
),

keyed as (
    select
        f.period_type,
        f.group_type,
        case f.group_type when 'all' then 'all' when 'owner' then t.owner_key
            else t.team_key end as group_id,
        case f.group_type when 'all' then 'all' when 'owner' then t.prev_owner_key
            else t.prev_team_key end as prev_group_id,
        t.*,
        case when t.in_scope
            then {{ waterfall_period_start_of('f.period_type', 't.expected_close_date') }} end
            as period_start,
        case when coalesce(t.prev_in_scope, false)
            then {{ waterfall_period_start_of('f.period_type', 't.prev_expected_close_date') }} end
            as prev_period_start
    from timeline as t
    cross join fanout as f
),

moves as (
    select
        k.*,
        coalesce(k.prev_in_scope, false) and k.in_scope
            and k.prev_group_id = k.group_id
            and k.prev_pipeline_id = k.pipeline_id
            and k.prev_currency = k.currency
            and k.prev_period_start = k.period_start as stays,
        cast(k.period_start as {{ dbt.type_timestamp() }}) as window_start,
        {{ waterfall_window_end('k.period_type', 'k.period_start') }} as window_end,
        cast(k.prev_period_start as {{ dbt.type_timestamp() }}) as prev_window_start,
        {{ waterfall_window_end('k.period_type', 'k.prev_period_start') }} as prev_window_end
    from keyed as k
),

{#- came in: the state after the move is in the period's pipeline; went out: the state before
    it was (its prev_ columns and period). -#}
{%- set came_in -%}
    case
        when prev_is_created is null or not prev_is_created then 'new'
        when prev_outcome <> 'open' then 'other_in'
        when prev_group_id <> group_id or prev_pipeline_id <> pipeline_id
            or prev_currency <> currency or prev_expected_close_date is null then 'other_in'
        else 'pulled_in'
    end
{%- endset %}
{%- set went_out -%}
    case
        when outcome = 'won' then 'won'
        when outcome = 'lost' then 'lost'
        when prev_group_id <> group_id or prev_pipeline_id <> pipeline_id
            or prev_currency <> currency or expected_close_date is null then 'other_out'
        else 'pushed_out'
    end
{%- endset %}
{#- Each kind of flow: when a move is one, its category and amount. opening and closing: in the
    period at its start and at its end; change: the amount changed while staying in it. -#}
{%- set kinds = {
    'opening': {
        'when': "in_scope and period_start <= cast('" ~ as_of_date() ~ "' as date)
            and valid_from < window_start and (valid_to is null or valid_to >= window_start)",
        'category': "'opening'", 'amount': 'exact_amount'},
    'closing': {
        'when': "in_scope and period_start <= cast('" ~ as_of_date() ~ "' as date)
            and valid_from < window_end and (valid_to is null or valid_to >= window_end)",
        'category': "'closing'", 'amount': 'exact_amount'},
    'change': {
        'when': 'stays and exact_amount <> prev_exact_amount
            and valid_from >= window_start and valid_from < window_end',
        'category': "case when exact_amount > prev_exact_amount then 'increased' else 'decreased' end",
        'amount': 'case when exact_amount > prev_exact_amount then exact_amount - prev_exact_amount
            else prev_exact_amount - exact_amount end'},
    'came_in': {
        'when': 'coalesce(in_scope, false) and not stays
            and valid_from >= window_start and valid_from < window_end',
        'category': came_in, 'amount': 'exact_amount'},
    'went_out': {
        'when': 'coalesce(prev_in_scope, false) and not stays
            and valid_from >= prev_window_start and valid_from < prev_window_end',
        'category': went_out, 'amount': 'prev_exact_amount'},
} %}
kinds as (
    {%- for kind in kinds %}
    select '{{ kind }}' as kind{{ ' union all' if not loop.last }}
    {%- endfor %}
),

flows as (
    -- went out: counted in the period, group, pipeline and currency of the state before
    {%- set before = "k.kind = 'went_out'" %}
    select m.period_type, m.group_type, m.deal_id,
        {%- for c in ['period_start', 'group_id', 'pipeline_id', 'currency'] %}
        case when {{ before }} then m.prev_{{ c }} else m.{{ c }} end as {{ c }},
        {%- endfor %}
        case k.kind
            {%- for kind, flow in kinds.items() %}
            when '{{ kind }}' then {{ flow.category }}
            {%- endfor %}
        end as category,
        case k.kind
            {%- for kind, flow in kinds.items() %}
            when '{{ kind }}' then {{ flow.amount }}
            {%- endfor %}
        end as amount
    from moves as m
    cross join kinds as k
    where case k.kind
        {%- for kind, flow in kinds.items() %}
        when '{{ kind }}' then {{ flow.when }}
        {%- endfor %}
    end
)

-- One row per deal: count(distinct deal_id) per category took one hash table per category
-- (DuckDB plans each as its own aggregate joined back), 1.3 GB at M. A deal's amount in a
-- category is null when it has no move of that category (amounts are never null), so the mart
-- counting the non-null ones counts the distinct deals.
select period_type, period_start, group_type, group_id, pipeline_id, currency, deal_id,
    {%- for c in ['opening'] + categories + ['closing'] %}
    sum(case when category = '{{ c }}' then amount end) as {{ c }}_amount,
    {%- endfor %}
    '{{ plan.signature }}' as rebuild_signature,
    {{ built_at() }} as _built_at
from flows
{%- if not plan.rebuild %}
where deal_id in (select deal_id from recomputed_deals)
    {%- if plan.new_periods_from %}
    or period_start >= cast('{{ plan.new_periods_from }}' as date)
    {%- endif %}
{%- endif %}
group by period_type, period_start, group_type, group_id, pipeline_id, currency, deal_id
union all
{{ deal_waterfall_as_of_row(plan) }}
