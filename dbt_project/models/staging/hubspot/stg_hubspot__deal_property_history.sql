-- HubSpot's own history of each deal's amount, close date and owner (API syncs only: the UI
-- export has none), one row per value a property held: raw.hubspot_deal_property_history,
-- which the sync's latest snapshot replaces as a whole.
select
    deal_id as source_deal_id,
    property,
    value,
    changed_at,
    source_type,
    position as history_position
from {{ source('raw', 'hubspot_deal_property_history') }}
