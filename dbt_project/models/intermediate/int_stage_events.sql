-- Every recorded entry of a deal into a stage, from each CRM's own history:
-- HubSpot's per-stage "Date entered" columns (latest visit per stage), ActiveCampaign's deal
-- activity log (creation, stage changes, status changes: won, lost, reopened) and a generic
-- export's stage-entered columns. Deals with no history get their current stage at creation,
-- and closed deals whose close is not in the history get it at their close date
-- (source = 'current_state'). event_seq orders events that share a timestamp.
-- Deals with no history in their export: stage changes seen between runs by the deals snapshot
-- (source = 'inferred', entered at the snapshot time); their first seen stage is their stage
-- since creation.
with stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

deals as (
    select * from {{ ref('int_deals') }}
),

hubspot_deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

hubspot as (
    select
        'hubspot-' || sd.source_deal_id as deal_id,
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
                then 'activecampaign-' || source_stage_id
            when data_type = 'd_stageid' then 'activecampaign-' || new_value
            when data_type = 'status' and new_value = '1' then pipeline_id || '-won'
            when data_type = 'status' and new_value = '2' then pipeline_id || '-lost'
            -- back to open (a reopen): the deal returns to the stage it was in
            when data_type = 'status' and new_value = '0'
                then 'activecampaign-' || source_stage_id
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
        gd.source_system || '-' || sd.source_deal_id as deal_id,
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
        on s.pipeline_id = gd.source_system || '-' || gd.pipeline_label
        and s.stage_name = sd.stage_label
),

native as (
    select * from hubspot
    union all select * from activecampaign where stage_id is not null
    union all select * from generic
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
)

select * from native where entered_at is not null
union all select * from closes
union all select * from bare
union all select * from inferred
