-- Every change of a tracked deal field (stage, amount, expected_close_date, owner,
-- probability), from each CRM's own history where it records that field (source = 'native'),
-- else from the deals snapshot's versions (source = 'snapshot', dated by its dbt_valid_from:
-- the CRM's last-modified time or the run's as-of day). Which CRM records which field natively
-- is deal_change_native_fields (macros/deal_changes.sql; README, "What moved: where the changes
-- come from").
--   stage: every source, from int_stage_events (native stage histories, and the snapshot's
--          inferred stage changes for deals without one), but HubSpot deals the API sync read
--          the dealstage history of: every move from that history (backward moves and
--          revisits too, which the stage dates of int_stage_events, latest visit only, lose);
--   amount, expected_close_date: Salesforce OpportunityHistory and Pipedrive's deal flow
--          (field_key value / expected_close_date);
--   probability: Salesforce OpportunityHistory;
--   owner: ActiveCampaign's deal activity log and Pipedrive's deal flow (int_deal_owner_events);
--   amount, expected_close_date, owner of HubSpot deals the API sync read the property history
--          of (stg_hubspot__deal_property_history): decided per deal, since exported and synced
--          HubSpot deals share source_system 'hubspot'; export-only deals keep the snapshot's.
-- change_seq orders the changes of one deal that share a time.
-- Incremental per deal (macros/deal_changes.sql): the pre-hook drops the rows of deals whose
-- inputs changed or are gone, and a night builds only the deals without rows; a change of
-- HubSpot's owner names or of the native fields rebuilds every deal. A table built before it
-- was incremental is rebuilt.
{{ incremental_mart_config('deal_id', on_schema_change='append_new_columns',
    pre_hook="{{ drop_stale_deals(deal_changes_plan(), deal_change_fingerprints()) }}") }}
{%- set plan = deal_changes_plan() %}
{%- set partial = is_incremental() and not plan.rebuild %}
with rebuilt as (
    select ids.deal_id from ({{ deal_change_deal_ids() }}) as ids
    {%- if partial %}
    where not exists (select 1 from {{ this }} as held where held.deal_id = ids.deal_id)
    {%- endif %}
),

deals as (
    select deal_id, source_system, created_at from {{ ref('int_deals') }}
    where {{ rebuilt_deals_only('deal_id', partial) }}
),

native_fields as (
    {%- for system, field in deal_change_native_fields() %}
    {{ 'union all' if not loop.first }}
    select '{{ system }}' as source_system, '{{ field }}' as field
    {%- endfor %}
),

stage_events as (
    select
        deal_id,
        stage_id,
        entered_at,
        event_seq,
        source,
        lag(stage_id) over (partition by deal_id order by entered_at, event_seq)
            as previous_stage_id,
        max(case when source = 'native' then 1 else 0 end) over (partition by deal_id)
            as has_native
    from {{ ref('int_stage_events') }}
    where entered_at is not null and {{ rebuilt_deals_only('deal_id', partial) }}
),

stage as (
    select
        deal_id,
        {{ deal_change_columns('stage', 'text', 'previous_stage_id', 'stage_id') }},
        entered_at as changed_at,
        event_seq as change_seq,
        -- a close the native history lacks comes from the CRM's current record (its close
        -- date), so it counts as native; snapshot-only deals' closes as snapshot
        case
            when source = 'native' then 'native'
            when source = 'inferred' then 'snapshot'
            when has_native = 1 then 'native'
            else 'snapshot'
        end as source
    from stage_events
    where previous_stage_id is not null and stage_id <> previous_stage_id
),

sf_history as (
    select
        {{ source_id('source_deal_id', 'salesforce') }} as deal_id,
        amount,
        close_date,
        win_probability_pct / 100.0 as probability,
        changed_at,
        lag(amount) over (partition by source_deal_id order by changed_at, source_history_id)
            as previous_amount,
        lag(close_date) over (
            partition by source_deal_id order by changed_at, source_history_id
        ) as previous_close_date,
        lag(win_probability_pct) over (
            partition by source_deal_id order by changed_at, source_history_id
        ) / 100.0 as previous_probability,
        row_number() over (partition by source_deal_id order by changed_at, source_history_id)
            as history_number
    from {{ ref('stg_salesforce__opportunity_history') }}
    where {{ rebuilt_deals_only(source_id('source_deal_id', 'salesforce'), partial) }}
),

salesforce as (
    {{ history_changes('sf_history', [
        ('amount', 'amount', 'previous_amount', 'amount'),
        ('expected_close_date', 'date', 'previous_close_date', 'close_date'),
        ('probability', 'text', 'previous_probability', 'probability')]) }}
),

-- Pipedrive logs each field's old and new value as text: a number for `value`, a day for
-- `expected_close_date` (cast only on its own rows: a number is no date)
pipedrive_flow as (
    select
        {{ source_id('c.source_deal_id', 'pipedrive') }} as deal_id,
        c.field_key,
        {%- for side in ['old', 'new'] %}
        case when c.field_key = 'value' then {{ try_to_double('c.' ~ side ~ '_value') }} end
            as {{ side }}_amount,
        case when c.field_key = 'expected_close_date' then cast(c.{{ side }}_value as date) end
            as {{ side }}_date,
        {%- endfor %}
        c.changed_at,
        c.change_seq
    from {{ ref('stg_pipedrive__deal_changes') }} as c
    where c.field_key in ('value', 'expected_close_date') and c.changed_at is not null
        and {{ rebuilt_deals_only(source_id('c.source_deal_id', 'pipedrive'), partial) }}
),

pipedrive as (
    {%- for field, kind, key, old, new in [
            ('amount', 'amount', 'value', 'f.old_amount', 'f.new_amount'),
            ('expected_close_date', 'date', 'expected_close_date', 'f.old_date', 'f.new_date')] %}
    select
        f.deal_id,
        {{ deal_change_columns(field, kind, old, new) }},
        f.changed_at,
        f.change_seq,
        'native' as source
    from pipedrive_flow as f
    -- the flow of a deal the sync no longer holds (deleted) is left out, as the owner log's
    inner join deals as d on f.deal_id = d.deal_id
    where f.field_key = '{{ key }}' and {{ value_changed(old, new) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

-- HubSpot's property history (API syncs): every value each property held, oldest first. The
-- first is the value at creation, unless HubSpot set it a minute or more after the deal was
-- created (the export's creation time has minutes only): then it is a change from none. A
-- deal always has a stage, so its first stage is never a change. Stage values are HubSpot's
-- stage ids, the source_stage_id of pipelines.json, made stage_ids as int_pipeline_stages does.
hubspot_values as (
    select
        {{ source_id('h.source_deal_id', 'hubspot') }} as deal_id,
        case h.property
            when 'amount' then 'amount'
            when 'closedate' then 'expected_close_date'
            when 'dealstage' then 'stage'
            else 'owner'
        end as field,
        h.changed_at,
        case when h.property = 'amount' then {{ try_to_double('h.value') }} end as amount,
        case when h.property = 'closedate' then cast(substr(h.value, 1, 10) as date) end
            as close_date,
        -- named like the export's owner, matched to an owner the way int_deals does
        case when h.property = 'hubspot_owner_id' then coalesce(
            o.owner_id, {{ source_id('lower(trim(h.value))', 'hubspot-name') }}) end as owner_id,
        case when h.property = 'dealstage' then {{ source_id('h.value', 'hubspot') }} end
            as stage_id,
        row_number() over (
            partition by h.source_deal_id, h.property
            order by h.changed_at, h.history_position desc
        ) as history_number
    from {{ ref('stg_hubspot__deal_property_history') }} as h
    left join {{ ref('int_owners') }} as o
        on h.property = 'hubspot_owner_id'
        and o.source_system = 'hubspot'
        and o.owner_name_key = lower(trim(h.value))
    where {{ rebuilt_deals_only(source_id('h.source_deal_id', 'hubspot'), partial) }}
),

hubspot_history as (
    select
        v.*,
        d.created_at,
        lag(v.amount) over (partition by v.deal_id, v.field order by v.history_number)
            as previous_amount,
        lag(v.close_date) over (partition by v.deal_id, v.field order by v.history_number)
            as previous_close_date,
        lag(v.owner_id) over (partition by v.deal_id, v.field order by v.history_number)
            as previous_owner_id,
        lag(v.stage_id) over (partition by v.deal_id, v.field order by v.history_number)
            as previous_stage_id
    from hubspot_values as v
    -- the history of a deal no export or sync holds now is left out
    inner join deals as d on v.deal_id = d.deal_id
),

hubspot as (
    {{ history_changes('hubspot_history', [
        ('amount', 'amount', 'previous_amount', 'amount'),
        ('expected_close_date', 'date', 'previous_close_date', 'close_date'),
        ('owner', 'text', 'previous_owner_id', 'owner_id'),
        ('stage', 'text', 'previous_stage_id', 'stage_id')],
        "field = '{field}' and (history_number > 1 or (field <> 'stage' and changed_at >= "
        ~ dbt.dateadd('minute', 1, 'created_at') ~ "))") }}
),

-- the stage changes of int_stage_events, but for deals whose stage HubSpot's history gives
stage_kept as (
    select s.* from stage as s
    where not exists (
        select 1 from hubspot_history as h where h.deal_id = s.deal_id and h.field = 'stage'
    )
),

owner_native as (
    select
        e.deal_id,
        {{ deal_change_columns('owner', 'text', 'e.old_owner_id', 'e.new_owner_id') }},
        e.occurred_at as changed_at,
        e.event_seq as change_seq,
        'native' as source
    from {{ ref('int_deal_owner_events') }} as e
    -- the log can name deals the exports no longer hold
    inner join deals as d on e.deal_id = d.deal_id
    where e.occurred_at is not null and {{ value_changed('e.old_owner_id', 'e.new_owner_id') }}
),

-- the snapshot's versions of deals still exported, each beside the one before it
versions as (
    select
        s.deal_id,
        d.source_system,
        s.amount,
        s.expected_close_date,
        s.owner_id,
        s.dbt_valid_from,
        lag(s.amount) over (partition by s.deal_id order by s.dbt_valid_from) as previous_amount,
        lag(s.expected_close_date) over (partition by s.deal_id order by s.dbt_valid_from)
            as previous_close_date,
        lag(s.owner_id) over (partition by s.deal_id order by s.dbt_valid_from)
            as previous_owner_id,
        row_number() over (partition by s.deal_id order by s.dbt_valid_from) as version_number
    from {{ ref('deals_snapshot') }} as s
    inner join deals as d on s.deal_id = d.deal_id
),

snapshot_changes as (
    {%- for field, kind, old, new in [
            ('amount', 'amount', 'previous_amount', 'amount'),
            ('expected_close_date', 'date', 'previous_close_date', 'expected_close_date'),
            ('owner', 'text', 'previous_owner_id', 'owner_id')] %}
    select
        deal_id,
        source_system,
        {{ deal_change_columns(field, kind, old, new) }},
        dbt_valid_from as changed_at,
        cast(version_number as {{ dbt.type_bigint() }}) as change_seq
    from versions
    where version_number > 1 and {{ value_changed(old, new) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

snapshot as (
    select
        c.deal_id, c.field, c.old_value, c.new_value, c.old_amount, c.new_amount,
        c.old_date, c.new_date, c.changed_at, c.change_seq,
        'snapshot' as source
    from snapshot_changes as c
    where
        not exists (
            select 1 from native_fields as n
            where n.source_system = c.source_system and n.field = c.field
        )
        -- a HubSpot deal with API history: its own changes, never the snapshot's as well
        and not exists (select 1 from hubspot_history as h where h.deal_id = c.deal_id)
),

changes as (
    select * from stage_kept
    union all select * from salesforce
    union all select * from pipedrive
    union all select * from hubspot
    union all select * from owner_native
    union all select * from snapshot
)

select
    c.*,
    f.inputs_hash,
    '{{ plan.signature }}' as rebuild_signature,
    {{ built_at() }} as _built_at
from changes as c
left join ({{ deal_change_fingerprints(partial) }}) as f on c.deal_id = f.deal_id
