{{ incremental_mart_config('transition_id', post_hook="{{ drop_surplus_stays(this) }}") }}
-- With SALESPIPE_PUBLISH_FACTS_BY_MONTH=true published as Parquet by month of exited_at (else
-- one file): a stay that ended never changes again unless its deal does, while every current
-- stay (no exited_at: one partition) is re-measured each night; by entered_at, those would
-- touch every month (orchestration/publish/partitions.py).
{{ config(meta={'publish_partition_by': {'month_of': 'exited_at', 'as': 'exited_month'}}) }}
-- One row per entry of a deal into a stage. Consecutive events in the same stage collapse into
-- one stay. Direction: 'created' (first stage), 'forward' (the next stage, or lost from any
-- stage), 'skip' (past one or more stages, including won from an earlier stage), 'backward'
-- (to an earlier stage, or from lost to won) and 'reopen' (out of won or lost into an open stage).
-- Incremental: a run rebuilds every stay of the deals with a record landed after the newest
-- loaded_at here (changed_deals) and re-measures the current stay of every other deal against
-- the as-of date; the post-hook drops stays a changed deal no longer has.
{%- set since = loaded_watermark(this) if is_incremental() else none %}
with changed_deals as (
    {{ deal_loaded_at(since) }}
),

-- The two window sorts carry only the columns a stay needs; the stages' names and flags are
-- joined after them (the inner join here keeps only events of a known stage, as before).
events as (
    select e.deal_id, e.pipeline_id, e.stage_id, e.entered_at, e.event_seq, e.source
    from {{ ref('int_stage_events') }} as e
    inner join {{ ref('int_pipeline_stages') }} as s on e.stage_id = s.stage_id
    {% if is_incremental() -%}
    where e.deal_id in (select deal_id from changed_deals)
    {%- endif %}
),

marked as (
    select
        *,
        lag(stage_id) over (
            partition by deal_id order by entered_at, event_seq
        ) as previous_event_stage_id
    from events
),

-- A stay's first event follows the last event of the stay before, in that stay's stage: so the
-- previous event's stage is the stage the deal came from.
sequenced as (
    select
        deal_id, pipeline_id, stage_id, entered_at, event_seq, source,
        previous_event_stage_id as from_stage_id,
        row_number() over (partition by deal_id order by entered_at, event_seq) as entry_number,
        lead(entered_at) over (
            partition by deal_id order by entered_at, event_seq
        ) as exited_at
    from marked
    where previous_event_stage_id is null or previous_event_stage_id <> stage_id
),

owner_before as (
    select
        s.deal_id,
        s.entry_number,
        o.new_owner_id as owner_id,
        row_number() over (
            partition by s.deal_id, s.entry_number order by o.occurred_at desc, o.event_seq desc
        ) as rank_
    from sequenced as s
    inner join {{ ref('int_deal_owner_events') }} as o
        on s.deal_id = o.deal_id and o.occurred_at <= s.entered_at
),

owner_after as (
    select
        s.deal_id,
        s.entry_number,
        o.old_owner_id as owner_id,
        row_number() over (
            partition by s.deal_id, s.entry_number order by o.occurred_at, o.event_seq
        ) as rank_
    from sequenced as s
    inner join {{ ref('int_deal_owner_events') }} as o
        on s.deal_id = o.deal_id and o.occurred_at > s.entered_at
),

measured as (
    select
        q.*,
        s.stage_name,
        s.stage_order,
        s.is_lost,
        s.is_closed,
        f.stage_name as from_stage,
        f.stage_order as from_stage_order,
        f.is_closed as from_is_closed,
        {{ hours_between('q.entered_at', 'coalesce(q.exited_at, ' ~ as_of_ts() ~ ')') }}
            as hours_raw
    from sequenced as q
    inner join {{ ref('int_pipeline_stages') }} as s on q.stage_id = s.stage_id
    left join {{ ref('int_pipeline_stages') }} as f on q.from_stage_id = f.stage_id
),

built as (
    select
    m.deal_id || '-' || cast(m.entry_number as {{ dbt.type_string() }}) as transition_id,
    m.deal_id,
    m.pipeline_id,
    m.entry_number,
    m.from_stage_id,
    m.from_stage,
    m.stage_id as to_stage_id,
    m.stage_name as to_stage,
    m.stage_order as to_stage_order,
    m.entered_at,
    m.exited_at,
    m.exited_at is null as is_current,
    case when m.hours_raw < 0 then 0 else m.hours_raw end as hours_in_stage,
    case when m.hours_raw < 0 then 0 else m.hours_raw end / 24.0 as days_in_stage,
    case
        when m.from_stage_id is null then 'created'
        when m.from_is_closed and not m.is_closed then 'reopen'
        when m.is_lost then 'forward'
        when m.stage_order = m.from_stage_order + 1 then 'forward'
        when m.stage_order > m.from_stage_order + 1 then 'skip'
        else 'backward'
    end as direction,
    coalesce(ob.owner_id, oa.owner_id, d.owner_id) as owner_id_at_time,
    m.source,
    coalesce(c.loaded_at, cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})) as loaded_at
from measured as m
left join owner_before as ob
    on m.deal_id = ob.deal_id and m.entry_number = ob.entry_number and ob.rank_ = 1
left join owner_after as oa
    on m.deal_id = oa.deal_id and m.entry_number = oa.entry_number and oa.rank_ = 1
left join {{ ref('int_deals') }} as d on m.deal_id = d.deal_id
left join changed_deals as c on m.deal_id = c.deal_id
)

select stays.*, {{ built_at() }} as _built_at
from (
    select * from built
    {%- if is_incremental() %}
    union all
    -- unchanged deals: only the current stay moves, its duration measured to the as-of date
    select
        t.transition_id,
        t.deal_id,
        t.pipeline_id,
        t.entry_number,
        t.from_stage_id,
        t.from_stage,
        t.to_stage_id,
        t.to_stage,
        t.to_stage_order,
        t.entered_at,
        t.exited_at,
        t.is_current,
        case when t.hours_now < 0 then 0 else t.hours_now end as hours_in_stage,
        case when t.hours_now < 0 then 0 else t.hours_now end / 24.0 as days_in_stage,
        t.direction,
        t.owner_id_at_time,
        t.source,
        t.loaded_at
    from (
        select *, {{ hours_between('entered_at', as_of_ts()) }} as hours_now
        from {{ this }}
        where is_current
    ) as t
    where not exists (select 1 from changed_deals as c where c.deal_id = t.deal_id)
    {%- endif %}
) as stays
