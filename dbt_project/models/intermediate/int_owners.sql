-- Owners (sales reps) from every source, with their team. HubSpot exports and generic CSVs name
-- the owner rather than giving an id, so their owners are also matched by lower-cased name
-- (owner_name_key); names that no owner list knows become owners of their own, team unknown.
-- A name HubSpot's owner list gives two owners (an archived user and a new hire) could mean
-- either: it is not guessed but becomes an owner of its own too, so the deals keep the name
-- and no team is credited with them.
-- HubSpot, Pipedrive and Salesforce list their users the same way: id, name, email and (but
-- in Pipedrive) team. Salesforce report exports name the Opportunity Owner: a name that the
-- API's users give is that user (keyed by name, so int_deals finds it); a name two API users
-- share is not guessed: both hold the key, and the uniqueness test on it stops the run.
with
-- the owner names report exports give (their rows carry no user id)
salesforce_report_owners as (
    select distinct lower(trim(owner_name)) as name_key
    from {{ ref('stg_salesforce__opportunities') }}
    where source_owner_id is null and nullif(trim(owner_name), '') is not null
),

{%- for crm, users, has_team in [('hubspot', 'stg_hubspot__owners', true),
                                 ('pipedrive', 'stg_pipedrive__users', false),
                                 ('salesforce', 'stg_salesforce__users', true)] %}
{{ crm }}_listed as (
    select
        '{{ crm }}' as source_system,
        {{ source_id('source_owner_id', crm) }} as owner_id,
        owner_name,
        email,
        {{ 'team' if has_team else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as team,
        {%- if crm == 'hubspot' %}
        count(*) over (partition by lower(trim(owner_name))) = 1 as matched_by_name
        {%- elif crm == 'salesforce' %}
        r.name_key is not null as matched_by_name
        {%- else %}
        false as matched_by_name
        {%- endif %}
    from {{ ref(users) }}
    {%- if crm == 'salesforce' %}
    -- a join, not `in (subquery)` in the select list, which Spark refuses
    left join salesforce_report_owners as r on lower(trim(owner_name)) = r.name_key
    {%- endif %}
),
{% endfor %}

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

-- owners named by report exports (Opportunity Owner) that no API user has the name of
salesforce_named as (
    select
        'salesforce' as source_system,
        {{ source_id('lower(trim(owner_name))', 'salesforce-name') }} as owner_id,
        max(trim(owner_name)) as owner_name,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as team,
        false as matched_by_name
    from {{ ref('stg_salesforce__opportunities') }}
    where
        source_owner_id is null
        and nullif(trim(owner_name), '') is not null
        and lower(trim(owner_name)) not in (
            select lower(trim(owner_name)) from salesforce_listed where matched_by_name
        )
    group by {{ source_id('lower(trim(owner_name))', 'salesforce-name') }}
),

unioned as (
    select * from hubspot_listed
    union all select * from hubspot_unlisted
    union all select * from activecampaign
    union all select * from generic
    union all select * from pipedrive_listed
    union all select * from salesforce_listed
    union all select * from salesforce_named
)

-- ActiveCampaign, Pipedrive and Salesforce reference owners by id: no key, and two of their
-- reps may share a name (Salesforce's report exports by name: its API users they name are keyed,
-- else by an id made of the name, in int_deals).
select
    owner_id,
    source_system,
    owner_name,
    case when matched_by_name then lower(trim(owner_name)) end as owner_name_key,
    email,
    team
from unioned
