-- One row per contact (lead or customer) from every CRM in one shape: source-prefixed ids and
-- the firmographic and BANT-style properties lead scoring uses (what marts.dim_contacts holds,
-- without the activity figures).
with owners as (
    select * from {{ ref('int_owners') }}
),

hubspot as (
    select
        {{ source_id('c.source_contact_id', 'hubspot') }} as contact_id,
        'hubspot' as source_system,
        c.source_contact_id,
        c.email,
        c.first_name,
        c.last_name,
        c.company,
        c.title,
        c.industry,
        c.company_size,
        cast(null as {{ dbt.type_string() }}) as company_size_band,
        c.country,
        c.lead_source,
        c.lifecycle_stage,
        o.owner_id,
        c.created_at,
        c.budget_range,
        c.decision_maker,
        c.need_identified,
        c.purchase_timeline
    from {{ ref('stg_hubspot__contacts') }} as c
    left join owners as o
        on o.source_system = 'hubspot' and o.owner_name_key = lower(trim(c.owner_name))
),

ac_fields as (
    select
        v.source_contact_id,
        max(case when f.field_title = 'Industry' then v.value end) as industry,
        max(case when f.field_title = 'Company Size' then v.value end) as company_size,
        max(case when f.field_title = 'Job Title' then v.value end) as title,
        max(case when f.field_title = 'Country' then v.value end) as country,
        max(case when f.field_title = 'Lead Source' then v.value end) as lead_source,
        max(case when f.field_title = 'Budget Range' then v.value end) as budget_range,
        max(case when f.field_title = 'Decision Maker' then v.value end) as decision_maker,
        max(case when f.field_title = 'Need Identified' then v.value end) as need_identified,
        max(case when f.field_title = 'Purchase Timeline' then v.value end) as purchase_timeline
    from {{ ref('stg_activecampaign__contact_field_values') }} as v
    inner join {{ ref('stg_activecampaign__fields') }} as f
        on v.source_field_id = f.source_field_id
    group by v.source_contact_id
),

activecampaign as (
    select
        {{ source_id('c.source_contact_id', 'activecampaign') }} as contact_id,
        'activecampaign' as source_system,
        c.source_contact_id,
        c.email,
        c.first_name,
        c.last_name,
        c.company,
        f.title,
        f.industry,
        {{ try_to_bigint('f.company_size') }} as company_size,
        f.company_size as company_size_band,
        f.country,
        f.lead_source,
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(null as {{ dbt.type_string() }}) as owner_id,
        c.created_at,
        f.budget_range,
        f.decision_maker,
        f.need_identified,
        f.purchase_timeline
    from {{ ref('stg_activecampaign__contacts') }} as c
    left join ac_fields as f on c.source_contact_id = f.source_contact_id
),

generic as (
    select
        {{ source_id('c.source_contact_id', source_column='c.source_system') }} as contact_id,
        c.source_system,
        c.source_contact_id,
        c.email,
        c.first_name,
        c.last_name,
        c.company,
        c.title,
        c.industry,
        c.company_size,
        cast(null as {{ dbt.type_string() }}) as company_size_band,
        c.country,
        c.lead_source,
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        {{ source_id("nullif(lower(trim(c.owner_name)), '')", source_column='c.source_system') }}
            as owner_id,
        c.created_at,
        c.budget_range,
        c.decision_maker,
        c.need_identified,
        c.purchase_timeline
    from {{ ref('stg_generic__contacts') }} as c
),

pipedrive as (
    select
        {{ source_id('c.source_contact_id', 'pipedrive') }} as contact_id,
        'pipedrive' as source_system,
        c.source_contact_id,
        c.email,
        c.first_name,
        c.last_name,
        cast(null as {{ dbt.type_string() }}) as company,
        cast(null as {{ dbt.type_string() }}) as title,
        cast(null as {{ dbt.type_string() }}) as industry,
        cast(null as {{ dbt.type_bigint() }}) as company_size,
        cast(null as {{ dbt.type_string() }}) as company_size_band,
        cast(null as {{ dbt.type_string() }}) as country,
        cast(null as {{ dbt.type_string() }}) as lead_source,
        cast(null as {{ dbt.type_string() }}) as lifecycle_stage,
        {{ source_id('c.source_owner_id', 'pipedrive') }} as owner_id,
        c.created_at,
        cast(null as {{ dbt.type_string() }}) as budget_range,
        cast(null as {{ dbt.type_string() }}) as decision_maker,
        cast(null as {{ dbt.type_string() }}) as need_identified,
        cast(null as {{ dbt.type_string() }}) as purchase_timeline
    from {{ ref('stg_pipedrive__persons') }} as c
),

-- Salesforce people: contacts (on opportunities) and leads (not converted yet); ids carry their
-- object's key prefix (003 / 00Q), so they never collide
salesforce as (
    select
        {{ source_id('c.source_contact_id', 'salesforce') }} as contact_id,
        'salesforce' as source_system,
        c.source_contact_id,
        c.email,
        c.first_name,
        c.last_name,
        cast(null as {{ dbt.type_string() }}) as company,
        c.title,
        cast(null as {{ dbt.type_string() }}) as industry,
        cast(null as {{ dbt.type_bigint() }}) as company_size,
        cast(null as {{ dbt.type_string() }}) as company_size_band,
        c.country,
        c.lead_source,
        'Contact' as lifecycle_stage,
        {{ source_id('c.source_owner_id', 'salesforce') }} as owner_id,
        c.created_at,
        cast(null as {{ dbt.type_string() }}) as budget_range,
        cast(null as {{ dbt.type_string() }}) as decision_maker,
        cast(null as {{ dbt.type_string() }}) as need_identified,
        cast(null as {{ dbt.type_string() }}) as purchase_timeline
    from {{ ref('stg_salesforce__contacts') }} as c
    union all
    select
        {{ source_id('l.source_lead_id', 'salesforce') }},
        'salesforce',
        l.source_lead_id,
        l.email,
        l.first_name,
        l.last_name,
        l.company,
        l.title,
        l.industry,
        l.company_size,
        cast(null as {{ dbt.type_string() }}),
        l.country,
        l.lead_source,
        'Lead',
        {{ source_id('l.source_owner_id', 'salesforce') }},
        l.created_at,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }})
    from {{ ref('stg_salesforce__leads') }} as l
    where not coalesce(l.is_converted, false)
)

select * from hubspot
union all select * from activecampaign
union all select * from generic
union all select * from pipedrive
union all select * from salesforce
