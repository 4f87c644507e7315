-- The open pipeline expected to close in each month and quarter, followed from the period's
-- start to its end (the current period to the end of the as-of day), per pipeline and
-- currency: over all deals (group_type 'all'), per owner and per team (a deal counts for the
-- owner it had at each moment, and that owner's team). Every move of a deal's state
-- (int_deal_states) in a period's window is one of: new (created, expected in the period),
-- pulled_in (close date moved into it), increased / decreased (amount, staying in it),
-- pushed_out (close date moved out of it, later or earlier), won, lost, other_in / other_out
-- (moved between pipelines, currencies, owners or teams; reopened). Amounts are exact
-- decimals, so opening + ins - outs = closing to the cent (tested on every row); a deal with
-- no amount moves with 0 and still counts. push_rate: the share of the deals in the period's
-- pipeline at some moment of it (pipeline_deals_count) that were pushed out of it.
{%- set categories = ['new', 'pulled_in', 'increased', 'other_in',
                      'pushed_out', 'decreased', 'won', 'lost', 'other_out'] %}
with states as (
    select
        s.*,
        s.is_created and s.outcome = 'open' and s.expected_close_date is not null as in_scope,
        cast(coalesce(s.amount, 0) as {{ type_exact_decimal() }}) as exact_amount,
        coalesce(s.owner_id, 'no owner') as owner_key,
        coalesce(o.team, 'Unassigned') as team_key
    from {{ ref('int_deal_states') }} as s
    left join {{ ref('int_owners') }} as o on s.owner_id = o.owner_id
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

grouped as (
    select 'all' as group_type, 'all' as group_id, 'all' as prev_group_id, t.* from timeline as t
    union all
    select 'owner', t.owner_key, t.prev_owner_key, t.* from timeline as t
    union all
    select 'team', t.team_key, t.prev_team_key, t.* from timeline as t
),

keyed as (
    {%- for period_type in waterfall_period_types() %}
    select
        '{{ period_type }}' as period_type,
        g.*,
        case when g.in_scope
            then {{ waterfall_period_start(period_type, 'g.expected_close_date') }} end
            as period_start,
        case when coalesce(g.prev_in_scope, false)
            then {{ waterfall_period_start(period_type, 'g.prev_expected_close_date') }} end
            as prev_period_start
    from grouped as g
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
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

flows as (
    -- in the period at its start (opening) and at its end (closing)
    {%- for category, moment in [('opening', 'window_start'), ('closing', 'window_end')] %}
    select period_type, period_start, group_type, group_id, pipeline_id, currency, deal_id,
        '{{ category }}' as category, exact_amount as amount
    from moves
    where in_scope and period_start <= cast('{{ as_of_date() }}' as date)
        and valid_from < {{ moment }} and (valid_to is null or valid_to >= {{ moment }})
    union all
    {%- endfor %}
    -- amount changed while staying in it
    select period_type, period_start, group_type, group_id, pipeline_id, currency, deal_id,
        case when exact_amount > prev_exact_amount then 'increased' else 'decreased' end,
        case when exact_amount > prev_exact_amount then exact_amount - prev_exact_amount
            else prev_exact_amount - exact_amount end
    from moves
    where stays and exact_amount <> prev_exact_amount
        and valid_from >= window_start and valid_from < window_end
    {#- came in: the state after the move is in the period's pipeline; went out: the state
        before it was. One select each, reading that state's columns (prev_ for the one before). -#}
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
    {%- for p, category in [('', came_in), ('prev_', went_out)] %}
    union all
    select period_type, {{ p }}period_start, group_type, {{ p }}group_id, {{ p }}pipeline_id,
        {{ p }}currency, deal_id,
        {{ category }},
        {{ p }}exact_amount
    from moves
    where coalesce({{ p }}in_scope, false) and not stays
        and valid_from >= {{ p }}window_start and valid_from < {{ p }}window_end
    {%- endfor %}
)

select
    period_type,
    period_start,
    case when {{ waterfall_window_end('period_type', 'period_start') }} < {{ as_of_ts() }}
        then cast({{ dbt.dateadd('day', -1, waterfall_window_end('period_type', 'period_start')) }} as date)
        else cast('{{ as_of_date() }}' as date)
    end as period_end,
    group_type,
    group_id,
    pipeline_id,
    currency,
    {%- for c in ['opening'] + categories + ['closing'] %}
    coalesce(sum(case when category = '{{ c }}' then amount end), 0) as {{ c }}_amount,
    count(distinct case when category = '{{ c }}' then deal_id end) as {{ c }}_count,
    {%- endfor %}
    -- a deal was in the period's pipeline at some moment of it: at its start or came in
    count(distinct case when category in ('opening', 'new', 'pulled_in', 'other_in')
        then deal_id end) as pipeline_deals_count,
    round(
        cast(count(distinct case when category = 'pushed_out' then deal_id end)
            as {{ type_double() }})
        / nullif(count(distinct case when category in ('opening', 'new', 'pulled_in', 'other_in')
            then deal_id end), 0),
        4) as push_rate
from flows
group by period_type, period_start, group_type, group_id, pipeline_id, currency
