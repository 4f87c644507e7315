{#- Lead scoring: the contact attributes fit rules may name, the rule types, and the checks that
    stop a build on a rule that cannot work (see seeds/lead_score_fit_rules.csv). -#}

{#- The marts.dim_contacts columns a fit rule may name. Ids, names and timestamps are left out
    on purpose: they describe the record, not how well the lead fits. -#}
{% macro lead_fit_attributes() -%}
    {{ return([
        'title', 'industry', 'company_size', 'company_size_band', 'country', 'lead_source',
        'lifecycle_stage', 'budget_range', 'decision_maker', 'need_identified',
        'purchase_timeline', 'source_system', 'company', 'email',
    ]) }}
{%- endmacro %}

{% macro lead_fit_match_types() -%}
    {{ return(['equals', 'in', 'contains', 'gte', 'lte', 'is_set']) }}
{%- endmacro %}

{#- dim_contacts as one row per contact and attribute (value as text and, where it parses, as a
    number), so rules can be joined on their attribute name instead of written as SQL. -#}
{% macro lead_fit_attribute_values(contacts) -%}
    {%- for attribute in lead_fit_attributes() %}
    select
        contact_id,
        '{{ attribute }}' as attribute,
        nullif(trim(cast({{ attribute }} as {{ dbt.type_string() }})), '') as value_text,
        {{ try_to_double(attribute) }} as value_number
    from {{ contacts }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- Fails the build, naming the rule and what is wrong with it, when a fit rule names an
    attribute lead scoring does not know, has an unknown match type, or compares a number
    (gte/lte) with a value that is not one. Runs as a pre-hook of int_lead_fit_matches, so the
    seed is loaded and nothing is scored with a broken rule. -#}
{% macro assert_valid_fit_rules(rules_relation) -%}
    {%- if execute -%}
        {%- set rows = run_query(
            "select rule_id, attribute, match_type, match_value from " ~ rules_relation) -%}
        {%- set attributes = lead_fit_attributes() -%}
        {%- set match_types = lead_fit_match_types() -%}
        {%- set problems = [] -%}
        {%- for rule in rows -%}
            {%- set attribute = (rule[1] or '') | trim | lower -%}
            {%- set match_type = (rule[2] or '') | trim | lower -%}
            {%- if attribute not in attributes -%}
                {%- do problems.append("rule '" ~ rule[0] ~ "' names attribute '" ~ rule[1]
                    ~ "', which is not a marts.dim_contacts attribute lead scoring knows (known: "
                    ~ attributes | join(', ') ~ ")") -%}
            {%- endif -%}
            {%- if match_type not in match_types -%}
                {%- do problems.append("rule '" ~ rule[0] ~ "' has match type '" ~ rule[2]
                    ~ "' (known match types: " ~ match_types | join(', ') ~ ")") -%}
            {%- elif match_type in ['gte', 'lte'] and not _is_number(rule[3]) -%}
                {%- do problems.append("rule '" ~ rule[0] ~ "' compares " ~ match_type
                    ~ " with '" ~ rule[3] ~ "', which is not a number") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if problems -%}
            {{ exceptions.raise_compiler_error(
                "seeds/lead_score_fit_rules.csv: " ~ problems | join('; ')
                ~ ". Fix the rule and run again.") }}
        {%- endif -%}
    {%- endif -%}
    select 1 as fit_rules_checked
{%- endmacro %}

{#- True when text is a plain decimal number such as 50, -5 or 2.5. -#}
{% macro _is_number(text) -%}
    {%- set digits = (text or '') | string | trim | replace('-', '', 1) | replace('.', '', 1) -%}
    {{ return(digits != '' and digits | list | reject('in', '0123456789') | list | length == 0) }}
{%- endmacro %}

{#- Points as text with their sign and one decimal, for reasons: 10 -> '+10.0', -5 -> '-5.0'. -#}
{% macro signed_points(expr) -%}
    case when {{ expr }} >= 0 then '+' else '' end
        || cast(round({{ expr }}, 1) as {{ dbt.type_string() }})
{%- endmacro %}
