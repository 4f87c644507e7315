-- Every recorded entry of a deal into a stage, from each CRM's own history:
-- HubSpot's per-stage "Date entered" columns (latest visit per stage), ActiveCampaign's deal
-- activity log (creation, stage changes, status changes: won, lost, reopened) and a generic
-- export's stage-entered columns. Deals with no history get their current stage at creation,
-- and closed deals whose close is not in the history get it at their close date
-- (source = 'current_state'). event_seq orders events that share a timestamp.
-- Deals with no history in their export: stage changes seen between runs by the deals snapshot
-- (source = 'inferred', entered at the snapshot time); their first seen stage is their stage
-- since creation.
-- Incremental (macros/stage_events.sql): the pre-hook drops the rows of deals whose inputs
-- changed or are gone, and a night builds only the deals without rows; a change of the stage
-- lookup rebuilds every deal. A table built before it was incremental is rebuilt.
{{ incremental_mart_config('deal_id', on_schema_change='append_new_columns',
    pre_hook="{{ drop_stale_stage_events(stage_events_plan()) }}") }}
{%- set plan = stage_events_plan() %}
{%- set partial = is_incremental() and not plan.rebuild %}
with rebuilt as (
    select ids.deal_id from ({{ stage_event_deal_ids() }}) as ids
    {%- if partial %}
    where not exists (select 1 from {{ this }} as held where held.deal_id = ids.deal_id)
    {%- endif %}
),

stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

deals as (
    select * from {{ ref('int_deals') }} where {{ stage_events_built('deal_id', partial) }}
),

hubspot_deals as (
    select * from {{ ref('stg_hubspot__deals') }}
    where {{ stage_events_built(source_id('source_deal_id', 'hubspot'), partial) }}
),

hubspot as (
    select
        {{ source_id('sd.source_deal_id', 'hubspot') }} as deal_id,
        s.pipeline_id,
        s.stage_id,
        sd.entered_at,
        cast(s.stage_order as {{ dbt.type_bigint() }}) as event_seq,
        'native' as source
    from {{ ref('stg_hubspot__deal_stage_dates') }} as sd
    -- only the stage dates of the deal row staging kept (latest export, first line)
    inner join hubspot_deals as d
        on sd.source_deal_id = d.source_deal_id
        and sd._source_file = d._source_file
        and sd._line = d._line
    inner join stages as s
        on s.source_system = 'hubspot'
        and s.pipeline_name = sd.pipeline_label
        and s.stage_name = sd.stage_label
),

ac_activities as (
    select
        a.*,
        d.pipeline_id,
        d.deal_id
    from {{ ref('stg_activecampaign__deal_activities') }} as a
    inner join deals as d
        on d.source_system = 'activecampaign' and d.source_deal_id = a.source_deal_id
),

activecampaign as (
    select
        deal_id,
        pipeline_id,
        case
            when data_type = 'deal' and data_action = 'create'
                then {{ source_id('source_stage_id', 'activecampaign') }}
            when data_type = 'd_stageid' then {{ source_id('new_value', 'activecampaign') }}
            when data_type = 'status' and new_value = '1' then pipeline_id || '-won'
            when data_type = 'status' and new_value = '2' then pipeline_id || '-lost'
            -- back to open (a reopen): the deal returns to the stage it was in
            when data_type = 'status' and new_value = '0'
                then {{ source_id('source_stage_id', 'activecampaign') }}
        end as stage_id,
        occurred_at as entered_at,
        {{ try_to_bigint('source_activity_id') }} as event_seq,
        'native' as source
    from ac_activities
    where
        (data_type = 'deal' and data_action = 'create')
        or data_type in ('d_stageid', 'status')
),

generic as (
    select
        {{ source_id('sd.source_deal_id', source_column='gd.source_system') }} as deal_id,
        s.pipeline_id,
        s.stage_id,
        sd.entered_at,
        cast(s.stage_order as {{ dbt.type_bigint() }}) as event_seq,
        'native' as source
    from {{ ref('stg_generic__deal_stage_dates') }} as sd
    inner join {{ ref('stg_generic__deals') }} as gd
        on sd.source_deal_id = gd.source_deal_id
        and sd._source_file = gd._source_file
        and sd._line = gd._line
    inner join stages as s
        on s.pipeline_id = {{ source_id('gd.pipeline_label', source_column='gd.source_system') }}
        and s.stage_name = sd.stage_label
    where {{ stage_events_built(
        source_id('gd.source_deal_id', source_column='gd.source_system'), partial) }}
),

pd_changes as (
    select
        c.*,
        d.deal_id,
        d.pipeline_id
    from {{ ref('stg_pipedrive__deal_changes') }} as c
    inner join deals as d
        on d.source_system = 'pipedrive' and d.source_deal_id = c.source_deal_id
),

-- Pipedrive's log has no creation entry: a deal was created in the old stage of its first
-- stage change, or, never moved, in the stage it is in now.
pd_first_change as (
    select
        deal_id,
        old_value,
        row_number() over (partition by deal_id order by changed_at, change_seq) as change_number
    from pd_changes
    where field_key = 'stage_id'
),

pd_created as (
    select
        d.deal_id,
        d.pipeline_id,
        d.created_at,
        coalesce({{ source_id('f.old_value', 'pipedrive') }}, {{ source_id('sd.source_stage_id', 'pipedrive') }})
            as first_stage_id
    from deals as d
    inner join {{ ref('stg_pipedrive__deals') }} as sd
        on d.source_system = 'pipedrive' and d.source_deal_id = sd.source_deal_id
    left join pd_first_change as f on d.deal_id = f.deal_id and f.change_number = 1
),

-- a reopen (status lost -> open) returns the deal to the stage it was in: the latest stage
-- change before it, else its first stage
pd_reopen_stage as (
    select
        r.source_change_id,
        s.new_value as stage_value,
        row_number() over (
            partition by r.source_change_id order by s.changed_at desc, s.change_seq desc
        ) as recency
    from pd_changes as r
    inner join pd_changes as s
        on s.deal_id = r.deal_id
        and s.field_key = 'stage_id'
        and (s.changed_at < r.changed_at
            or (s.changed_at = r.changed_at and s.change_seq < r.change_seq))
    where r.field_key = 'status' and r.new_value = 'open'
),

pipedrive as (
    select
        deal_id,
        pipeline_id,
        first_stage_id as stage_id,
        created_at as entered_at,
        cast(0 as {{ dbt.type_bigint() }}) as event_seq,
        'native' as source
    from pd_created
    union all
    select
        c.deal_id,
        c.pipeline_id,
        case
            when c.field_key = 'stage_id' then {{ source_id('c.new_value', 'pipedrive') }}
            when c.new_value = 'won' then c.pipeline_id || '-won'
            when c.new_value = 'lost' then c.pipeline_id || '-lost'
            else coalesce({{ source_id('rs.stage_value', 'pipedrive') }}, pc.first_stage_id)
        end as stage_id,
        c.changed_at as entered_at,
        c.change_seq as event_seq,
        'native' as source
    from pd_changes as c
    left join pd_reopen_stage as rs
        on c.source_change_id = rs.source_change_id and rs.recency = 1
    left join pd_created as pc on c.deal_id = pc.deal_id
    where c.field_key in ('stage_id', 'status')
),

-- Salesforce: OpportunityHistory rows that changed the stage (the others changed the amount,
-- probability or close date)
sf_history as (
    select
        d.deal_id,
        d.pipeline_id,
        h.stage_name,
        h.changed_at,
        lag(h.stage_name) over (
            partition by h.source_deal_id order by h.changed_at, h.source_history_id
        ) as previous_stage_name,
        row_number() over (
            partition by h.source_deal_id order by h.changed_at, h.source_history_id
        ) as history_number
    from {{ ref('stg_salesforce__opportunity_history') }} as h
    inner join deals as d
        on d.source_system = 'salesforce' and d.source_deal_id = h.source_deal_id
),

salesforce as (
    select
        deal_id,
        pipeline_id,
        {{ source_id('stage_name', 'salesforce') }} as stage_id,
        changed_at as entered_at,
        cast(history_number as {{ dbt.type_bigint() }}) as event_seq,
        'native' as source
    from sf_history
    where previous_stage_name is null or previous_stage_name <> stage_name
),

native as (
    select * from hubspot
    union all select * from activecampaign where stage_id is not null
    union all select * from generic
    union all select * from pipedrive
    union all select * from salesforce
),

-- stage versions the deals snapshot kept, for deals with no native history (and still exported)
snapshot_versions as (
    select
        s.deal_id,
        s.pipeline_id,
        s.stage_id,
        s.dbt_valid_from,
        lag(s.stage_id) over (partition by s.deal_id order by s.dbt_valid_from)
            as previous_stage_id,
        row_number() over (partition by s.deal_id order by s.dbt_valid_from) as version_number
    from {{ ref('deals_snapshot') }} as s
    inner join deals as d on s.deal_id = d.deal_id
    where
        s.stage_id is not null
        and not exists (select 1 from native as n where n.deal_id = s.deal_id)
),

inferred as (
    select
        deal_id,
        pipeline_id,
        stage_id,
        dbt_valid_from as entered_at,
        cast(version_number as {{ dbt.type_bigint() }}) as event_seq,
        'inferred' as source
    from snapshot_versions
    where previous_stage_id is not null and stage_id <> previous_stage_id
),

first_seen as (
    select deal_id, stage_id from snapshot_versions where version_number = 1
),

last_native as (
    select deal_id, max(entered_at) as last_entered_at
    from (
        select deal_id, entered_at from native
        union all select deal_id, entered_at from inferred
    ) as recorded
    group by deal_id
),

-- a closed deal's close, where the history does not record it; never before the last recorded
-- entry (a date-only close date would otherwise sort before a stage entered that same day)
closes as (
    select
        d.deal_id,
        d.pipeline_id,
        d.stage_id,
        case
            when ln.last_entered_at > coalesce(d.reported_closed_at, d.created_at)
                then ln.last_entered_at
            else coalesce(d.reported_closed_at, d.created_at)
        end as entered_at,
        cast(999999 as {{ dbt.type_bigint() }}) as event_seq,
        'current_state' as source
    from deals as d
    left join last_native as ln on d.deal_id = ln.deal_id
    where
        d.outcome <> 'open'
        and d.stage_id is not null
        and not exists (
            select 1 from native as n where n.deal_id = d.deal_id and n.stage_id = d.stage_id
        )
        and not exists (
            select 1 from inferred as i where i.deal_id = d.deal_id and i.stage_id = d.stage_id
        )
),

-- deals with no history at all: their current (or first seen) stage since creation
bare as (
    select
        d.deal_id,
        d.pipeline_id,
        coalesce(fs.stage_id, d.stage_id) as stage_id,
        d.created_at as entered_at,
        cast(0 as {{ dbt.type_bigint() }}) as event_seq,
        'current_state' as source
    from deals as d
    left join first_seen as fs on d.deal_id = fs.deal_id
    where
        d.stage_id is not null
        and d.created_at is not null
        and (
            d.outcome = 'open'
            or exists (select 1 from inferred as i where i.deal_id = d.deal_id)
        )
        and not exists (select 1 from native as n where n.deal_id = d.deal_id)
),

events as (
    select * from native where entered_at is not null
    union all select * from closes
    union all select * from bare
    union all select * from inferred
)

select
    e.*,
    f.inputs_hash,
    '{{ plan.signature }}' as rebuild_signature,
    {{ built_at() }} as _built_at
from events as e
left join ({{ stage_event_fingerprints(partial) }}) as f on e.deal_id = f.deal_id
