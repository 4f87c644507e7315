-- pipeline_waterfall as issue 25 wrote it (commit e713901), compiled for DuckDB: the reference
-- the rewritten model must equal row for row (tests/test_deal_changes.py on the samples,
-- `python -m benchmarks.waterfall_checks WAREHOUSE --reference` on a benchmark's warehouse).
-- Kept as plain SQL, not a model: it is never built, only run beside the model by those checks.
-- {as_of} is the run's as-of date (YYYY-MM-DD); tables are read from the default catalog.
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
with states as (
    select
        s.*,
        s.is_created and s.outcome = 'open' and s.expected_close_date is not null as in_scope,
        cast(coalesce(s.amount, 0) as decimal(38, 12)) as exact_amount,
        coalesce(s.owner_id, 'no owner') as owner_key,
        coalesce(o.team, 'Unassigned') as team_key
    from intermediate."int_deal_states" as s
    left join intermediate."int_owners" as o on s.owner_id = o.owner_id
),

timeline as (
    select
        s.*,
        lag(s.is_created) over (partition by s.deal_id order by s.valid_from) as prev_is_created,
        lag(s.in_scope) over (partition by s.deal_id order by s.valid_from) as prev_in_scope,
        lag(s.outcome) over (partition by s.deal_id order by s.valid_from) as prev_outcome,
        lag(s.pipeline_id) over (partition by s.deal_id order by s.valid_from) as prev_pipeline_id,
        lag(s.currency) over (partition by s.deal_id order by s.valid_from) as prev_currency,
        lag(s.expected_close_date) over (partition by s.deal_id order by s.valid_from) as prev_expected_close_date,
        lag(s.exact_amount) over (partition by s.deal_id order by s.valid_from) as prev_exact_amount,
        lag(s.owner_key) over (partition by s.deal_id order by s.valid_from) as prev_owner_key,
        lag(s.team_key) over (partition by s.deal_id order by s.valid_from) as prev_team_key
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
    select
        'month' as period_type,
        g.*,
        case when g.in_scope
            then cast(date_trunc('month', g.expected_close_date) as date) end
            as period_start,
        case when coalesce(g.prev_in_scope, false)
            then cast(date_trunc('month', g.prev_expected_close_date) as date) end
            as prev_period_start
    from grouped as g
    union all
    select
        'quarter' as period_type,
        g.*,
        case when g.in_scope
            then cast(date_trunc('quarter', g.expected_close_date) as date) end
            as period_start,
        case when coalesce(g.prev_in_scope, false)
            then cast(date_trunc('quarter', g.prev_expected_close_date) as date) end
            as prev_period_start
    from grouped as g
),

moves as (
    select
        k.*,
        coalesce(k.prev_in_scope, false) and k.in_scope
            and k.prev_group_id = k.group_id
            and k.prev_pipeline_id = k.pipeline_id
            and k.prev_currency = k.currency
            and k.prev_period_start = k.period_start as stays,
        cast(k.period_start as timestamp) as window_start,
        case
        when k.period_type = 'month' and
            cast(

    (k.period_start + cast(1 as bigint) * interval 1 month) as timestamp)
            < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
            then cast(

    (k.period_start + cast(1 as bigint) * interval 1 month) as timestamp)
        when k.period_type = 'quarter' and
            cast(

    (k.period_start + cast(3 as bigint) * interval 1 month) as timestamp)
            < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
            then cast(

    (k.period_start + cast(3 as bigint) * interval 1 month) as timestamp)
        else 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
    end as window_end,
        cast(k.prev_period_start as timestamp) as prev_window_start,
        case
        when k.period_type = 'month' and
            cast(

    (k.prev_period_start + cast(1 as bigint) * interval 1 month) as timestamp)
            < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
            then cast(

    (k.prev_period_start + cast(1 as bigint) * interval 1 month) as timestamp)
        when k.period_type = 'quarter' and
            cast(

    (k.prev_period_start + cast(3 as bigint) * interval 1 month) as timestamp)
            < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
            then cast(

    (k.prev_period_start + cast(3 as bigint) * interval 1 month) as timestamp)
        else 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
    end as prev_window_end
    from keyed as k
),

flows as (
    -- in the period at its start (opening) and at its end (closing)
    select period_type, period_start, group_type, group_id, pipeline_id, currency, deal_id,
        'opening' as category, exact_amount as amount
    from moves
    where in_scope and period_start <= cast('{as_of}' as date)
        and valid_from < window_start and (valid_to is null or valid_to >= window_start)
    union all
    select period_type, period_start, group_type, group_id, pipeline_id, currency, deal_id,
        'closing' as category, exact_amount as amount
    from moves
    where in_scope and period_start <= cast('{as_of}' as date)
        and valid_from < window_end and (valid_to is null or valid_to >= window_end)
    union all
    -- amount changed while staying in it
    select period_type, period_start, group_type, group_id, pipeline_id, currency, deal_id,
        case when exact_amount > prev_exact_amount then 'increased' else 'decreased' end,
        case when exact_amount > prev_exact_amount then exact_amount - prev_exact_amount
            else prev_exact_amount - exact_amount end
    from moves
    where stays and exact_amount <> prev_exact_amount
        and valid_from >= window_start and valid_from < window_end
    union all
    select period_type, period_start, group_type, group_id, pipeline_id,
        currency, deal_id,
        case
            when prev_is_created is null or not prev_is_created then 'new'
            when prev_outcome <> 'open' then 'other_in'
            when prev_group_id <> group_id or prev_pipeline_id <> pipeline_id
                or prev_currency <> currency or prev_expected_close_date is null then 'other_in'
            else 'pulled_in'
        end,
        exact_amount
    from moves
    where coalesce(in_scope, false) and not stays
        and valid_from >= window_start and valid_from < window_end
    union all
    select period_type, prev_period_start, group_type, prev_group_id, prev_pipeline_id,
        prev_currency, deal_id,
        case
            when outcome = 'won' then 'won'
            when outcome = 'lost' then 'lost'
            when prev_group_id <> group_id or prev_pipeline_id <> pipeline_id
                or prev_currency <> currency or expected_close_date is null then 'other_out'
            else 'pushed_out'
        end,
        prev_exact_amount
    from moves
    where coalesce(prev_in_scope, false) and not stays
        and valid_from >= prev_window_start and valid_from < prev_window_end
)

select
    period_type,
    period_start,
    case when case
        when period_type = 'month' and
            cast(

    (period_start + cast(1 as bigint) * interval 1 month) as timestamp)
            < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
            then cast(

    (period_start + cast(1 as bigint) * interval 1 month) as timestamp)
        when period_type = 'quarter' and
            cast(

    (period_start + cast(3 as bigint) * interval 1 month) as timestamp)
            < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
            then cast(

    (period_start + cast(3 as bigint) * interval 1 month) as timestamp)
        else 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
    end < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
        then cast(

    (case
        when period_type = 'month' and
            cast(

    (period_start + cast(1 as bigint) * interval 1 month) as timestamp)
            < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
            then cast(

    (period_start + cast(1 as bigint) * interval 1 month) as timestamp)
        when period_type = 'quarter' and
            cast(

    (period_start + cast(3 as bigint) * interval 1 month) as timestamp)
            < 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
            then cast(

    (period_start + cast(3 as bigint) * interval 1 month) as timestamp)
        else 

    (cast('{as_of}' as timestamp) + cast(1 as bigint) * interval 1 day)
    end + cast(-1 as bigint) * interval 1 day) as date)
        else cast('{as_of}' as date)
    end as period_end,
    group_type,
    group_id,
    pipeline_id,
    currency,
    coalesce(sum(case when category = 'opening' then amount end), 0) as opening_amount,
    count(distinct case when category = 'opening' then deal_id end) as opening_count,
    coalesce(sum(case when category = 'new' then amount end), 0) as new_amount,
    count(distinct case when category = 'new' then deal_id end) as new_count,
    coalesce(sum(case when category = 'pulled_in' then amount end), 0) as pulled_in_amount,
    count(distinct case when category = 'pulled_in' then deal_id end) as pulled_in_count,
    coalesce(sum(case when category = 'increased' then amount end), 0) as increased_amount,
    count(distinct case when category = 'increased' then deal_id end) as increased_count,
    coalesce(sum(case when category = 'other_in' then amount end), 0) as other_in_amount,
    count(distinct case when category = 'other_in' then deal_id end) as other_in_count,
    coalesce(sum(case when category = 'pushed_out' then amount end), 0) as pushed_out_amount,
    count(distinct case when category = 'pushed_out' then deal_id end) as pushed_out_count,
    coalesce(sum(case when category = 'decreased' then amount end), 0) as decreased_amount,
    count(distinct case when category = 'decreased' then deal_id end) as decreased_count,
    coalesce(sum(case when category = 'won' then amount end), 0) as won_amount,
    count(distinct case when category = 'won' then deal_id end) as won_count,
    coalesce(sum(case when category = 'lost' then amount end), 0) as lost_amount,
    count(distinct case when category = 'lost' then deal_id end) as lost_count,
    coalesce(sum(case when category = 'other_out' then amount end), 0) as other_out_amount,
    count(distinct case when category = 'other_out' then deal_id end) as other_out_count,
    coalesce(sum(case when category = 'closing' then amount end), 0) as closing_amount,
    count(distinct case when category = 'closing' then deal_id end) as closing_count,
    -- a deal was in the period's pipeline at some moment of it: at its start or came in
    count(distinct case when category in ('opening', 'new', 'pulled_in', 'other_in')
        then deal_id end) as pipeline_deals_count,
    round(
        cast(count(distinct case when category = 'pushed_out' then deal_id end)
            as double precision)
        / nullif(count(distinct case when category in ('opening', 'new', 'pulled_in', 'other_in')
            then deal_id end), 0),
        4) as push_rate
from flows
group by period_type, period_start, group_type, group_id, pipeline_id, currency
