-- The alerts true at the as-of moment: one row per open deal and problem (stalled, stale,
-- overdue, incomplete), with a reason a person can read and the figures behind it.
-- Their history across runs (new / ongoing / resolved) is kept by marts.deal_alerts. Silence
-- is measured from int_deal_last_touch.last_touch_at: the newest activity up to the as-of
-- moment on the deal or by its primary contact on any deal.
{{ config(schema='alerts') }}
{%- set pct = ((var('alert_stalled_percentile') * 100) | round | int) | string %}
with deals as (
    select * from {{ ref('fct_deals') }}
    where outcome = 'open'
),

stale_limits as (
    select
        d.deal_id,
        cast(c.stale_after_days as {{ dbt.type_float() }}) as stale_after_days,
        row_number() over (
            partition by d.deal_id order by case when c.pipeline_name = '*' then 1 else 0 end
        ) as rank_
    from deals as d
    inner join {{ ref('alert_stale_days') }} as c
        on c.pipeline_name = d.pipeline_name or c.pipeline_name = '*'
),

measured as (
    select
        d.*,
        lt.last_touch_at,
        {{ hours_between('coalesce(lt.last_touch_at, d.created_at)', as_of_ts()) }} / 24.0
            as silent_days,
        sl.stale_after_days,
        sl_stage.limit_days as stage_limit_days,
        sl_stage.limit_basis,
        sl_stage.completed_stays,
        {{ dbt.datediff('d.expected_close_date', "cast('" ~ as_of_date() ~ "' as date)", 'day') }}
            as days_overdue
    from deals as d
    left join {{ ref('int_deal_last_touch') }} as lt on d.deal_id = lt.deal_id
    left join stale_limits as sl on d.deal_id = sl.deal_id and sl.rank_ = 1
    left join {{ ref('deal_alert_stage_limits') }} as sl_stage on d.stage_id = sl_stage.stage_id
),

stalled as (
    select
        deal_id,
        'stalled' as alert_type,
        'In ' || stage_name || ' for ' || {{ alert_days_text('days_in_current_stage') }}
            || ' days; normal is up to ' || {{ alert_days_text('stage_limit_days') }} || ' days ('
            || case limit_basis
                when 'learned' then 'p{{ pct }} of '
                    || cast(completed_stays as {{ dbt.type_string() }}) || ' completed stays'
                when 'override' then 'configured limit'
                else 'configured limit, only '
                    || cast(completed_stays as {{ dbt.type_string() }}) || ' completed stays'
            end || ')' as reason,
        days_in_current_stage as metric_value,
        stage_limit_days as threshold_value,
        limit_basis as threshold_basis
    from measured
    where days_in_current_stage > stage_limit_days
),

stale as (
    select
        deal_id,
        'stale' as alert_type,
        case when last_touch_at is null
            then 'No activity since it was created ' || {{ alert_days_text('silent_days') }}
                || ' days ago'
            else 'No activity on the deal or its contact for '
                || {{ alert_days_text('silent_days') }} || ' days'
        end || ' (limit ' || {{ alert_days_text('stale_after_days') }} || ' days in '
            || coalesce(pipeline_name, 'this pipeline') || ')' as reason,
        silent_days as metric_value,
        stale_after_days as threshold_value,
        'alert_stale_days' as threshold_basis
    from measured
    where silent_days >= stale_after_days
),

overdue as (
    select
        deal_id,
        'overdue' as alert_type,
        'Still open ' || cast(days_overdue as {{ dbt.type_string() }})
            || ' days after its expected close date '
            || cast(cast(expected_close_date as date) as {{ dbt.type_string() }}) as reason,
        cast(days_overdue as {{ dbt.type_float() }}) as metric_value,
        cast(0 as {{ dbt.type_float() }}) as threshold_value,
        'expected_close_date' as threshold_basis
    from measured
    where days_overdue > 0
),

incomplete as (
    select
        deal_id,
        'incomplete' as alert_type,
        'Missing ' || substr(
            case when owner_id is null then ', owner' else '' end
            || case when amount is null then ', amount' else '' end
            || case when expected_close_date is null then ', expected close date' else '' end,
            3) as reason,
        cast(
            case when owner_id is null then 1 else 0 end
            + case when amount is null then 1 else 0 end
            + case when expected_close_date is null then 1 else 0 end
            as {{ dbt.type_float() }}) as metric_value,
        cast(0 as {{ dbt.type_float() }}) as threshold_value,
        'required fields' as threshold_basis
    from measured
    where owner_id is null or amount is null or expected_close_date is null
),

alerts as (
    select * from stalled
    union all select * from stale
    union all select * from overdue
    union all select * from incomplete
)

select
    a.deal_id || ':' || a.alert_type as alert_id,
    a.deal_id,
    a.alert_type,
    d.deal_name,
    d.owner_id,
    d.owner_name,
    d.team,
    d.pipeline_id,
    d.pipeline_name,
    d.stage_id,
    d.stage_name,
    d.amount,
    d.currency,
    a.reason,
    a.metric_value,
    a.threshold_value,
    a.threshold_basis
from alerts as a
inner join deals as d on a.deal_id = d.deal_id
