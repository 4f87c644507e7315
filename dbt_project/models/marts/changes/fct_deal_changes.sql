-- One row per change of a tracked deal field (stage, amount, expected_close_date, owner,
-- probability) of the deals the exports and syncs still hold: old and new value as text (stage
-- and owner ids, amounts with 2 decimals, dates), the typed amount or date, when it changed,
-- and whether the CRM's own history recorded it (source 'native') or salespipe's nightly
-- snapshot saw it between two runs ('snapshot'). Built in intermediate.int_deal_changes, which
-- says which CRM records which field.
-- Incremental, so a night writes (and the publication copies) only the deals that changed: the
-- pre-hook drops the deals int_deal_changes rewrote since this table's newest _built_at (their
-- int_deals name and source are in its inputs hash) or no longer holds, and the model inserts
-- those deals' rows again. It rebuilds itself when empty or built before it was incremental.
{{ incremental_mart_config('deal_id', on_schema_change='append_new_columns',
    pre_hook="{{ drop_rewritten_deal_changes(built_through_plan()) }}") }}
{%- set plan = built_through_plan() %}
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
    c.source,
    {{ built_at() }} as _built_at
from {{ ref('int_deal_changes') }} as c
inner join {{ ref('int_deals') }} as d on c.deal_id = d.deal_id
{%- if not plan.rebuild %}
where c._built_at > {{ deal_changes_since(plan) }}
{%- endif %}
