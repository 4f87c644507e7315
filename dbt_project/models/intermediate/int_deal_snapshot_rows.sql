-- What the deals snapshot records each run: every deal of int_deals, with the time a change
-- seen in this run is dated by (the snapshot's updated_at, so dbt_valid_from is never the
-- wall clock): the CRM's own last-modified time where the export or API carries one
-- (ActiveCampaign mdate, Pipedrive update_time, Salesforce LastModifiedDate), else the start
-- of the run's as-of day. Backfills and tests re-run with the same dates.
with modified as (
    select
        {{ source_id('source_deal_id', 'activecampaign') }} as deal_id,
        updated_at as modified_at
    from {{ ref('stg_activecampaign__deals') }}
    union all
    select {{ source_id('source_deal_id', 'pipedrive') }}, updated_at
    from {{ ref('stg_pipedrive__deals') }}
    union all
    select {{ source_id('source_deal_id', 'salesforce') }}, updated_at
    from {{ ref('stg_salesforce__opportunities') }}
)

select
    d.*,
    m.modified_at,
    coalesce(
        cast(m.modified_at as {{ dbt.type_timestamp() }}),
        cast('{{ as_of_date() }}' as {{ dbt.type_timestamp() }})
    ) as seen_at
from {{ ref('int_deals') }} as d
left join modified as m on d.deal_id = m.deal_id
