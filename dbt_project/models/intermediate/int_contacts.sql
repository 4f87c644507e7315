-- One row per contact (lead or customer) from every CRM in one shape: source-prefixed ids and
-- the firmographic and BANT-style properties lead scoring uses (what marts.dim_contacts holds,
-- without the activity figures).
-- Incremental (macros/contacts.sql): a night recomputes the contacts with a record landed since
-- the last build (all of a raw table's after a file of it was landed again), the post-hook drops
-- the contacts no CRM has any more, and a change of HubSpot's owners or ActiveCampaign's field
-- titles rebuilds every contact.
-- A table built before the model was incremental gets the build columns appended and is rebuilt.
{{ config(
    materialized='incremental',
    unique_key='contact_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ clear_for_rebuild(contacts_plan()) }}",
    post_hook="{{ drop_vanished_contacts() }}",
) }}
{#- The one shape of a contact (macro contact_shape): each CRM's part below names the columns
    its CRM has (macro shaped_columns); the others are null. -#}
{%- set shape = contact_shape() %}
{%- set plan = contacts_plan() %}
{%- set person = ['email', 'first_name', 'last_name', 'created_at'] %}
{%- set firmographics = ['company', 'title', 'industry', 'company_size', 'country', 'lead_source'] %}
{#- BANT-style qualification: budget, authority, need, timeline #}
{%- set bant = ['budget_range', 'decision_maker', 'need_identified', 'purchase_timeline'] %}
{%- set ac_tables = ['activecampaign_contacts', 'activecampaign_contact_field_values'] %}
with owners as (
    select * from {{ ref('int_owners') }}
),

hubspot as (
    select
        {{ shaped_columns(shape,
            taken={'c': ['source_contact_id', 'lifecycle_stage'] + person + firmographics + bant},
            computed={'contact_id': source_id('c.source_contact_id', 'hubspot'),
                      'source_system': "'hubspot'", 'owner_id': 'o.owner_id'}) }}
    from {{ ref('stg_hubspot__contacts') }} as c
    left join owners as o
        on o.source_system = 'hubspot' and o.owner_name_key = lower(trim(c.owner_name))
    where {{ contact_changed(plan, 'c.source_contact_id', ['hubspot_contacts']) }}
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
    where {{ contact_changed(plan, 'v.source_contact_id', ac_tables) }}
    group by v.source_contact_id
),

activecampaign as (
    select
        {{ shaped_columns(shape,
            taken={'c': ['source_contact_id', 'company'] + person,
                   'f': ['title', 'industry', 'country', 'lead_source'] + bant},
            computed={'contact_id': source_id('c.source_contact_id', 'activecampaign'),
                      'source_system': "'activecampaign'",
                      'company_size': try_to_bigint('f.company_size'),
                      'company_size_band': 'f.company_size'}) }}
    from {{ ref('stg_activecampaign__contacts') }} as c
    left join ac_fields as f on c.source_contact_id = f.source_contact_id
    where {{ contact_changed(plan, 'c.source_contact_id', ac_tables) }}
),

generic as (
    select
        {{ shaped_columns(shape,
            taken={'c': ['source_system', 'source_contact_id'] + person + firmographics + bant},
            computed={
                'contact_id': source_id('c.source_contact_id', source_column='c.source_system'),
                'owner_id': source_id("nullif(lower(trim(c.owner_name)), '')",
                                      source_column='c.source_system')}) }}
    from {{ ref('stg_generic__contacts') }} as c
    -- by the CRM's id alone: the same id in another generic source is recomputed too
    where {{ contact_changed(plan, 'c.source_contact_id', ['generic_contacts']) }}
),

pipedrive as (
    select
        {{ shaped_columns(shape, taken={'c': ['source_contact_id'] + person},
            computed={'contact_id': source_id('c.source_contact_id', 'pipedrive'),
                      'source_system': "'pipedrive'",
                      'owner_id': source_id('c.source_owner_id', 'pipedrive')}) }}
    from {{ ref('stg_pipedrive__persons') }} as c
    where {{ contact_changed(plan, 'c.source_contact_id', ['pipedrive_persons']) }}
),

-- Salesforce people: contacts (on opportunities) and leads (not converted yet); ids carry their
-- object's key prefix (003 / 00Q), so they never collide
salesforce as (
    select
        {{ shaped_columns(shape,
            taken={'c': ['source_contact_id', 'title', 'country', 'lead_source'] + person},
            computed={'contact_id': source_id('c.source_contact_id', 'salesforce'),
                      'source_system': "'salesforce'", 'lifecycle_stage': "'Contact'",
                      'owner_id': source_id('c.source_owner_id', 'salesforce')}) }}
    from {{ ref('stg_salesforce__contacts') }} as c
    where {{ contact_changed(plan, 'c.source_contact_id', ['salesforce_contacts']) }}
    union all
    select
        {{ shaped_columns(shape, taken={'l': person + firmographics},
            computed={'contact_id': source_id('l.source_lead_id', 'salesforce'),
                      'source_system': "'salesforce'", 'source_contact_id': 'l.source_lead_id',
                      'lifecycle_stage': "'Lead'",
                      'owner_id': source_id('l.source_owner_id', 'salesforce')}) }}
    from {{ ref('stg_salesforce__leads') }} as l
    where
        not coalesce(l.is_converted, false)
        and {{ contact_changed(plan, 'l.source_lead_id', ['salesforce_leads']) }}
),

contacts as (
    select * from hubspot
    union all select * from activecampaign
    union all select * from generic
    union all select * from pipedrive
    union all select * from salesforce
)

select
    *,
    -- the newest landing time in the raw contact tables at this build: the next night's
    -- watermark (macro contacts_plan)
    cast('{{ plan.newest or "1900-01-01 00:00:00" }}' as {{ dbt.type_timestamp() }})
        as loaded_through,
    '{{ plan.signature }}' as rebuild_signature,
    {{ built_at() }} as _built_at
from contacts
