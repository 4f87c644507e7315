-- One row per contact and fit rule (seed lead_score_fit_rules) that fires for it. Contacts are
-- unpivoted to (attribute, value) so a rule is data joined on its attribute name, not SQL. Text
-- matches ignore case and surrounding spaces; a missing value matches nothing (is_set: false).
-- The pre-hook stops the build, naming the rule, when a rule cannot work (unknown attribute or
-- match type, gte/lte with a value that is not a number).
-- Incremental (macro fit_matches_plan): a night recomputes the contacts int_contacts wrote since
-- this table's last build (after a rebuild of int_contacts, all of them); the pre-hook first
-- deletes their rows and those of contacts int_contacts no longer has, so the new rows are
-- appended (delete+insert would delete them again: 1.2 s of 1M rows at M). A change of the fit rules
-- seed table (its rows hashed into rebuild_signature) rebuilds every contact.
-- A table built before the model was incremental gets the build columns appended and is rebuilt.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=["{{ assert_valid_fit_rules(ref('lead_score_fit_rules')) }}",
              "{{ clear_fit_matches_of_changed_contacts() }}"],
) }}

{%- set attributes = lead_fit_rule_attributes(ref('lead_score_fit_rules')) %}
{%- set plan = fit_matches_plan() %}
{#- an incremental run reads the few contacts it recomputes once (a CTE read by every attribute's
    select is materialised), not int_contacts once per attribute -#}
{%- set contacts = ref('int_contacts') if plan.rebuild else 'changed_contacts' %}

-- only the attributes the rules name (see lead_fit_rule_attributes): 3M contacts times all 14
-- known attributes would be 42M rows to join to the rules. Each reads int_contacts itself, not
-- a shared CTE, which DuckDB would materialise with all of its columns.
with
{%- if not plan.rebuild %}
changed_contacts as (
    select * from {{ ref('int_contacts') }} where {{ fit_contacts_changed(plan) }}
),
{%- endif %}

attribute_values as (
    {{ lead_fit_attribute_values(contacts, attributes.named, attributes.numeric) }}
),

-- normalised once (macro lead_fit_rules, which int_lead_score_parts words the rules from)
rules as (
    {{ lead_fit_rules(ref('lead_score_fit_rules')) }}
)

select
    v.contact_id,
    r.rule_id,
    r.attribute,
    r.match_type,
    r.match_value,
    v.value_text as contact_value,
    r.points,
    '{{ plan.signature }}' as rebuild_signature,
    {{ built_at() }} as _built_at
from rules as r
inner join attribute_values as v on r.attribute = v.attribute
where
    case r.match_type
        when 'equals' then v.value_key = r.match_text
        when 'in' then {{ dbt.position("'|' || v.value_key || '|'", 'r.match_list') }} > 0
        when 'contains' then {{ dbt.position('r.match_text', 'v.value_key') }} > 0
        when 'gte' then v.value_number >= r.match_number
        when 'lte' then v.value_number <= r.match_number
        when 'is_set' then v.value_text is not null
    end
