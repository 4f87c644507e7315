-- Owner changes recorded by a CRM (ActiveCampaign's deal activity log; Pipedrive's deal
-- update log, added below); used to know who owned a deal when it entered each stage.
select
    {{ source_id('a.source_deal_id', 'activecampaign') }} as deal_id,
    a.occurred_at,
    {{ try_to_bigint('a.source_activity_id') }} as event_seq,
    {{ source_id('a.old_value', 'activecampaign') }} as old_owner_id,
    {{ source_id('a.new_value', 'activecampaign') }} as new_owner_id
from {{ ref('stg_activecampaign__deal_activities') }} as a
where a.data_type = 'owner'
union all
select
    {{ source_id('c.source_deal_id', 'pipedrive') }} as deal_id,
    c.changed_at as occurred_at,
    c.change_seq as event_seq,
    {{ source_id('c.old_value', 'pipedrive') }} as old_owner_id,
    {{ source_id('c.new_value', 'pipedrive') }} as new_owner_id
from {{ ref('stg_pipedrive__deal_changes') }} as c
where c.field_key = 'user_id'
