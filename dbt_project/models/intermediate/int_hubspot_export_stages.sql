-- HubSpot pipelines that no saved pipelines.json describes (UI exports alone): their stages come
-- from the deals' labels. Order: the export's `Date entered` columns (HubSpot writes them in
-- stage order), else seeds/hubspot_stage_defaults. Won and lost: the deals' `Is Closed Won` and
-- `Is Deal Closed?` where exported, else the seed (the pipeline's row, then the * row).
-- Probability: the deals' `Deal probability`, else the seed. A label nothing knows is an open
-- stage ordered after the known ones (is_known false; the run's summary names it).
with listed as (
    select distinct pipeline_label from {{ ref('stg_hubspot__pipeline_stages') }}
    where pipeline_label is not null
),

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
    where
        pipeline_label is not null
        and stage_label is not null
        and pipeline_label not in (select pipeline_label from listed)
),

defaults as (
    select * from {{ ref('hubspot_stage_defaults') }}
),

seen as (
    select
        pipeline_label,
        stage_label,
        {{ dbt.bool_or('is_closed_won') }} as any_won,
        {{ dbt.bool_or('is_deal_closed') }} as any_closed,
        avg(deal_probability) as probability
    from deals
    group by pipeline_label, stage_label
),

positions as (
    select pipeline_label, stage_label, min(stage_position) as stage_position
    from {{ ref('stg_hubspot__deal_stage_dates') }}
    group by pipeline_label, stage_label
),

-- the seed's stages of a pipeline the export has, also where no deal is in them now
seeded as (
    select p.pipeline_label, c.stage_name as stage_label
    from (select distinct pipeline_label from deals) as p
    inner join defaults as c on lower(c.pipeline_name) = lower(p.pipeline_label)
    where not exists (
        select 1 from seen as s
        where s.pipeline_label = p.pipeline_label and lower(s.stage_label) = lower(c.stage_name)
    )
),

stages as (
    select pipeline_label, stage_label from seen
    union all
    select pipeline_label, stage_label from seeded
),

described as (
    select
        st.pipeline_label,
        st.stage_label,
        pos.stage_position,
        named.stage_order as seed_order,
        coalesce(se.any_won, named.is_won, star.is_won, false) as is_won,
        coalesce(
            se.any_closed and not coalesce(se.any_won, false), named.is_lost, star.is_lost, false
        ) as is_lost,
        coalesce(se.probability, named.probability, star.probability) as probability,
        (
            se.any_closed is not null
            or named.stage_name is not null
            or star.stage_name is not null
        ) as is_known
    from stages as st
    left join seen as se
        on st.pipeline_label = se.pipeline_label and st.stage_label = se.stage_label
    left join positions as pos
        on st.pipeline_label = pos.pipeline_label and st.stage_label = pos.stage_label
    left join defaults as named
        on lower(named.pipeline_name) = lower(st.pipeline_label)
        and lower(named.stage_name) = lower(st.stage_label)
    left join defaults as star
        on star.pipeline_name = '*' and lower(star.stage_name) = lower(st.stage_label)
),

-- the export's position of the last stage the seed puts before each stage
after_position as (
    select a.pipeline_label, a.stage_label, max(b.stage_position) as position_before
    from described as a
    inner join described as b
        on a.pipeline_label = b.pipeline_label and b.seed_order < a.seed_order
    group by a.pipeline_label, a.stage_label
)

select
    {{ source_id("'label:' || d.pipeline_label", 'hubspot') }} as pipeline_id,
    d.pipeline_label as pipeline_name,
    {{ source_id("'label:' || d.pipeline_label || '/' || d.stage_label", 'hubspot') }}
        as stage_id,
    d.stage_label as stage_name,
    -- a stage the export has no dates for goes right after the seed's stages before it
    cast(coalesce(
        d.stage_position, ap.position_before + 0.5, d.seed_order, 100000
    ) as {{ dbt.type_float() }}) as display_order,
    d.is_won,
    d.is_lost,
    d.probability,
    d.is_known
from described as d
left join after_position as ap
    on d.pipeline_label = ap.pipeline_label and d.stage_label = ap.stage_label
