-- Owner changes recorded by a CRM (ActiveCampaign's deal activity log; Pipedrive's deal
-- update log, added below); used to know who owned a deal when it entered each stage.
select
    'activecampaign-' || a.source_deal_id as deal_id,
    a.occurred_at,
    {{ try_to_bigint('a.source_activity_id') }} as event_seq,
    case when a.old_value is not null then 'activecampaign-' || a.old_value end as old_owner_id,
    case when a.new_value is not null then 'activecampaign-' || a.new_value end as new_owner_id
from {{ ref('stg_activecampaign__deal_activities') }} as a
where a.data_type = 'owner'
union all
select
    'pipedrive-' || c.source_deal_id as deal_id,
    c.changed_at as occurred_at,
    c.change_seq as event_seq,
    case when c.old_value is not null then 'pipedrive-' || c.old_value end as old_owner_id,
    case when c.new_value is not null then 'pipedrive-' || c.new_value end as new_owner_id
from {{ ref('stg_pipedrive__deal_changes') }} as c
where c.field_key = 'user_id'
