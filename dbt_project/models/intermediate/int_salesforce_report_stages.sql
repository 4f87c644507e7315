-- Salesforce stages known only from report exports (no OpportunityStage picklist synced: a
-- user without API access): the stage labels the opportunities and their history carry. Won and
-- lost: seeds/salesforce_stage_defaults (by label, ignoring case), else the report's Probability
-- (every row at 100%: won; at 0%: lost, as Salesforce's closed stages are). Probability: the
-- rows' mean, else the seed. Order: by probability, ties by the seed's order (Salesforce's
-- stages rise in probability), a stage with neither last.
with picklist as (
    select api_name from {{ ref('stg_salesforce__opportunity_stages') }}
    where api_name is not null
),

labelled as (
    select stage_name, win_probability_pct from {{ ref('stg_salesforce__opportunities') }}
    union all
    select stage_name, win_probability_pct from {{ ref('stg_salesforce__opportunity_history') }}
),

seen as (
    select
        stage_name,
        avg(win_probability_pct) / 100 as probability,
        min(win_probability_pct) as min_pct,
        max(win_probability_pct) as max_pct
    from labelled
    where
        stage_name is not null
        and stage_name not in (select api_name from picklist)
    group by stage_name
)

select
    s.stage_name,
    cast(
        coalesce(s.probability, d.probability, 1.01) * 100000 + coalesce(d.stage_order, 999)
        as {{ dbt.type_float() }}
    ) as display_order,
    coalesce(d.is_won, s.min_pct >= 100, false) as is_won,
    coalesce(d.is_lost, s.max_pct <= 0, false) as is_lost,
    coalesce(s.probability, d.probability) as probability,
    d.stage_name is not null as is_known
from seen as s
left join {{ ref('salesforce_stage_defaults') }} as d
    on lower(d.stage_name) = lower(s.stage_name)
