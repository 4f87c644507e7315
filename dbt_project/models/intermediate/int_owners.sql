-- Owners (sales reps) from every source, with their team. HubSpot exports and generic CSVs name
-- the owner rather than giving an id, so their owners are also matched by lower-cased name
-- (owner_name_key); names that no owner list knows become owners of their own, team unknown.
-- A name HubSpot's owner list gives two owners (an archived user and a new hire) could mean
-- either: it is not guessed but becomes an owner of its own too, so the deals keep the name
-- and no team is credited with them.
with hubspot_listed as (
    select
        'hubspot' as source_system,
        {{ source_id('o.source_owner_id', 'hubspot') }} as owner_id,
        o.owner_name,
        o.email,
        o.team,
        count(*) over (partition by lower(trim(o.owner_name))) = 1 as matched_by_name
    from {{ ref('stg_hubspot__owners') }} as o
),

hubspot_named as (
    select owner_name from {{ ref('stg_hubspot__deals') }}
    union select owner_name from {{ ref('stg_hubspot__contacts') }}
    union select owner_name from {{ ref('stg_hubspot__activities') }}
),

hubspot_unlisted as (
    select
        'hubspot' as source_system,
        {{ source_id('lower(trim(n.owner_name))', 'hubspot-name') }} as owner_id,
        max(trim(n.owner_name)) as owner_name,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as team,
        true as matched_by_name
    from hubspot_named as n
    where
        nullif(trim(n.owner_name), '') is not null
        and lower(trim(n.owner_name)) not in (
            select lower(trim(owner_name)) from hubspot_listed
            where owner_name is not null and matched_by_name
        )
    group by {{ source_id('lower(trim(n.owner_name))', 'hubspot-name') }}
),

activecampaign as (
    select
        'activecampaign' as source_system,
        {{ source_id('u.source_owner_id', 'activecampaign') }} as owner_id,
        u.owner_name,
        u.email,
        g.team,
        false as matched_by_name
    from {{ ref('stg_activecampaign__users') }} as u
    left join {{ ref('stg_activecampaign__groups') }} as g
        on u.source_group_id = g.source_group_id
),

generic_named as (
    select source_system, owner_name, email, team from {{ ref('stg_generic__owners') }}
    union all
    select source_system, owner_name, null, null from {{ ref('stg_generic__deals') }}
    union all
    select source_system, owner_name, null, null from {{ ref('stg_generic__contacts') }}
    union all
    select source_system, owner_name, null, null from {{ ref('stg_generic__activities') }}
),

generic as (
    select
        source_system,
        {{ source_id('lower(trim(owner_name))', source_column='source_system') }} as owner_id,
        max(trim(owner_name)) as owner_name,
        -- one name listed twice with different teams or emails: neither is guessed
        case when count(distinct email) = 1 then max(email) end as email,
        case when count(distinct team) = 1 then max(team) end as team,
        true as matched_by_name
    from generic_named
    where nullif(trim(owner_name), '') is not null
    group by source_system, {{ source_id('lower(trim(owner_name))', source_column='source_system') }}
),

pipedrive as (
    select
        'pipedrive' as source_system,
        {{ source_id('source_owner_id', 'pipedrive') }} as owner_id,
        owner_name,
        email,
        cast(null as {{ dbt.type_string() }}) as team,
        false as matched_by_name
    from {{ ref('stg_pipedrive__users') }}
),

salesforce as (
    select
        'salesforce' as source_system,
        {{ source_id('source_owner_id', 'salesforce') }} as owner_id,
        owner_name,
        email,
        team,
        false as matched_by_name
    from {{ ref('stg_salesforce__users') }}
),

unioned as (
    select * from hubspot_listed
    union all select * from hubspot_unlisted
    union all select * from activecampaign
    union all select * from generic
    union all select * from pipedrive
    union all select * from salesforce
)

-- ActiveCampaign, Pipedrive and Salesforce reference owners by id: no key, and two of their
-- reps may share a name.
select
    owner_id,
    source_system,
    owner_name,
    case when matched_by_name then lower(trim(owner_name)) end as owner_name_key,
    email,
    team
from unioned
