-- One row per change of a tracked deal field (stage, amount, expected_close_date, owner,
-- probability) of the deals the exports and syncs still hold: old and new value as text (stage
-- and owner ids, amounts with 2 decimals, dates), the typed amount or date, when it changed,
-- and whether the CRM's own history recorded it (source 'native') or salespipe's nightly
-- snapshot saw it between two runs ('snapshot'). Built in intermediate.int_deal_changes, which
-- says which CRM records which field.
select
    c.deal_id,
    d.source_system,
    d.deal_name,
    c.field,
    c.old_value,
    c.new_value,
    c.old_amount,
    c.new_amount,
    c.old_date,
    c.new_date,
    c.changed_at,
    c.change_seq,
    c.source
from {{ ref('int_deal_changes') }} as c
inner join {{ ref('int_deals') }} as d on c.deal_id = d.deal_id
