-- The alerts true at the as-of moment: one row per open deal and problem (stalled, stale,
-- overdue, incomplete; what moved: pushed, amount_dropped, moved_backward, single_threaded), with a reason a person can read and the figures behind it.
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

-- What moved (thresholds: seed alert_change_thresholds; changes: marts.fct_deal_changes).
thresholds as (
    select
        {%- for name in ['pushed_min_times', 'pushed_min_days', 'pushed_window_days',
                         'amount_dropped_min_pct', 'amount_dropped_window_days',
                         'moved_backward_window_days', 'single_threaded_min_probability',
                         'single_threaded_window_days', 'single_threaded_max_contacts'] %}
        max(case when setting = '{{ name }}' then value end) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('alert_change_thresholds') }}
),

changes as (
    select
        c.*,
        row_number() over (
            partition by c.deal_id, c.field order by c.changed_at, c.change_seq
        ) as first_n,
        row_number() over (
            partition by c.deal_id, c.field order by c.changed_at desc, c.change_seq desc
        ) as last_n
    from {{ ref('fct_deal_changes') }} as c
    cross join thresholds as t
    where c.deal_id in (select deal_id from deals)
        and (
            (c.field = 'expected_close_date' and {{ within_last_days('c.changed_at', 't.pushed_window_days') }})
            or (c.field = 'amount'
                and {{ within_last_days('c.changed_at', 't.amount_dropped_window_days') }})
            or (c.field = 'stage'
                and {{ within_last_days('c.changed_at', 't.moved_backward_window_days') }})
        )
),

close_date_moves as (
    select
        deal_id,
        sum(case when new_date > old_date then 1 else 0 end) as times_pushed,
        sum(case when new_date > old_date
            then {{ dbt.datediff('old_date', 'new_date', 'day') }} else 0 end) as days_pushed,
        max(case when first_n = 1
            then coalesce(cast(old_date as {{ dbt.type_string() }}), 'none') end) as first_date,
        {{ dbt.listagg("coalesce(cast(new_date as " ~ dbt.type_string() ~ "), 'none')",
                       "' -> '", "order by changed_at, change_seq") }} as later_dates
    from changes
    where field = 'expected_close_date'
    group by deal_id
),

pushed as (
    select
        m.deal_id,
        'pushed' as alert_type,
        'Close date pushed '
            || case when m.times_pushed = 1 then 'once'
                else {{ whole_text('m.times_pushed') }} || ' times' end || ' ('
            || {{ whole_text('m.days_pushed') }} || ' days later in all) in the last '
            || {{ whole_text('t.pushed_window_days') }} || ' days: '
            || m.first_date || ' -> ' || m.later_dates as reason,
        cast(m.times_pushed as {{ dbt.type_float() }}) as metric_value,
        cast(t.pushed_min_times as {{ dbt.type_float() }}) as threshold_value,
        'alert_change_thresholds' as threshold_basis
    from close_date_moves as m
    cross join thresholds as t
    where m.times_pushed > 0
        and (m.times_pushed >= t.pushed_min_times or m.days_pushed >= t.pushed_min_days)
),

amount_spans as (
    select
        deal_id,
        max(case when first_n = 1 then old_amount end) as amount_before,
        max(case when last_n = 1 then new_amount end) as amount_after,
        max(case when last_n = 1 then changed_at end) as last_changed_at
    from changes
    where field = 'amount'
    group by deal_id
),

amount_dropped as (
    select
        a.deal_id,
        'amount_dropped' as alert_type,
        'Amount down ' || {{ alert_days_text('a.drop_pct') }} || '% in the last '
            || {{ whole_text('t.amount_dropped_window_days') }} || ' days: '
            || {{ amount_text('a.amount_before') }} || ' -> '
            || coalesce({{ amount_text('a.amount_after') }}, 'none') || ' on '
            || cast(cast(a.last_changed_at as date) as {{ dbt.type_string() }}) as reason,
        cast(a.drop_pct as {{ dbt.type_float() }}) as metric_value,
        cast(t.amount_dropped_min_pct as {{ dbt.type_float() }}) as threshold_value,
        'alert_change_thresholds' as threshold_basis
    from (
        select
            s.*,
            (s.amount_before - coalesce(s.amount_after, 0)) * 100.0 / s.amount_before as drop_pct
        from amount_spans as s
        where s.amount_before > 0
    ) as a
    cross join thresholds as t
    where a.drop_pct >= t.amount_dropped_min_pct
),

backward_moves as (
    select
        c.deal_id,
        c.changed_at,
        fs.stage_name as from_stage,
        ts.stage_name as to_stage,
        row_number() over (partition by c.deal_id order by c.changed_at desc, c.change_seq desc)
            as recency,
        count(*) over (partition by c.deal_id) as moves_back
    from changes as c
    inner join {{ ref('dim_pipeline_stages') }} as fs on c.old_value = fs.stage_id
    inner join {{ ref('dim_pipeline_stages') }} as ts on c.new_value = ts.stage_id
    where c.field = 'stage'
        and fs.pipeline_id = ts.pipeline_id
        and not fs.is_closed and not ts.is_closed
        and ts.stage_order < fs.stage_order
),

moved_backward as (
    select
        b.deal_id,
        'moved_backward' as alert_type,
        'Moved back from ' || b.from_stage || ' to ' || b.to_stage || ' on '
            || cast(cast(b.changed_at as date) as {{ dbt.type_string() }})
            || case when b.moves_back > 1
                then ' (' || {{ whole_text('b.moves_back') }} || ' moves back in the last '
                    || {{ whole_text('t.moved_backward_window_days') }} || ' days)'
                else '' end as reason,
        cast(b.moves_back as {{ dbt.type_float() }}) as metric_value,
        cast(1 as {{ dbt.type_float() }}) as threshold_value,
        'alert_change_thresholds' as threshold_basis
    from backward_moves as b
    cross join thresholds as t
    where b.recency = 1
),

recent_contacts as (
    select a.deal_id, count(distinct a.contact_id) as contacts
    from {{ ref('fct_activities') }} as a
    cross join thresholds as t
    where a.deal_id is not null
        and {{ within_last_days('a.occurred_at', 't.single_threaded_window_days') }}
    group by a.deal_id
),

single_threaded as (
    select
        m.deal_id,
        'single_threaded' as alert_type,
        'In ' || m.stage_name || ' (probability '
            || {{ whole_text('m.stage_probability * 100') }} || '%) with '
            || case coalesce(rc.contacts, 0)
                when 0 then 'no contact'
                when 1 then 'one contact'
                else {{ whole_text('rc.contacts') }} || ' contacts'
            end || ' in its activities of the last '
            || {{ whole_text('t.single_threaded_window_days') }} || ' days' as reason,
        cast(coalesce(rc.contacts, 0) as {{ dbt.type_float() }}) as metric_value,
        cast(t.single_threaded_max_contacts as {{ dbt.type_float() }}) as threshold_value,
        'alert_change_thresholds' as threshold_basis
    from measured as m
    cross join thresholds as t
    left join recent_contacts as rc on m.deal_id = rc.deal_id
    where m.stage_probability >= t.single_threaded_min_probability
        and coalesce(rc.contacts, 0) <= t.single_threaded_max_contacts
),

alerts as (
    select * from stalled
    union all select * from stale
    union all select * from overdue
    union all select * from incomplete
    union all select * from pushed
    union all select * from amount_dropped
    union all select * from moved_backward
    union all select * from single_threaded
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
