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
-- The sum of each deal's rows (int_deal_waterfall, kept incrementally); adding them up is
-- cheap next to following the deals' states, so the mart is rebuilt whole.
{%- set categories = ['new', 'pulled_in', 'increased', 'other_in',
                      'pushed_out', 'decreased', 'won', 'lost', 'other_out'] %}
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
    coalesce(sum({{ c }}_amount), 0) as {{ c }}_amount,
    count({{ c }}_amount) as {{ c }}_count,
    {%- endfor %}
    -- a deal was in the period's pipeline at some moment of it: at its start or came in
    count(coalesce(opening_amount, new_amount, pulled_in_amount, other_in_amount)) as pipeline_deals_count,
    round(
        cast(count(pushed_out_amount) as {{ type_double() }})
        / nullif(count(coalesce(opening_amount, new_amount, pulled_in_amount, other_in_amount)), 0),
        4) as push_rate
-- the row holding the as-of day has no deal
from {{ ref('int_deal_waterfall') }}
where deal_id is not null
group by period_type, period_start, group_type, group_id, pipeline_id, currency
