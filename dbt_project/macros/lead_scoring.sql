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

{#- dim_contacts as one row per contact and attribute (value as text, lower-cased text and, for
    `number_attributes`, as a number where it parses), so rules can be joined on their attribute
    name instead of written as SQL. A missing value fires no rule, so it gets no row; the number
    is left null where no gte/lte rule would read it (a text-to-number cast of every value is a
    large part of the cost at millions of contacts). -#}
{% macro lead_fit_attribute_values(contacts, attributes, number_attributes) -%}
    {%- for attribute in attributes %}
    select
        contact_id,
        '{{ attribute }}' as attribute,
        nullif(trim(cast({{ attribute }} as {{ dbt.type_string() }})), '') as value_text,
        lower(nullif(trim(cast({{ attribute }} as {{ dbt.type_string() }})), '')) as value_key,
        {% if attribute in number_attributes -%}
        {{ try_to_double(attribute) }}
        {%- else -%}
        cast(null as {{ type_double() }})
        {%- endif %} as value_number
    from {{ contacts }}
    where {{ attribute }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- The known attributes the fit rules of `rules_relation` name ('named') and those a gte/lte
    rule compares as numbers ('numeric'), read from the loaded seed each time the model is
    compiled for a run, so an edited seed counts on the next run (dbt's saved parse state never
    holds them: `execute` is false while parsing). Unpivoting only these is what keeps
    int_lead_fit_matches cheap: every known attribute is 14 rows per contact. Every known
    attribute, for both, when the seed cannot be read (parsing, a warehouse where it is not
    loaded yet, unit tests, whose seed rows are fixtures, not the table) or names no known
    attribute (empty; unknown names stop the build in assert_valid_fit_rules). -#}
{% macro lead_fit_rule_attributes(rules_relation) -%}
    {%- set known = lead_fit_attributes() -%}
    {%- set rows = [] -%}
    {%- if execute and model.resource_type != 'unit_test'
            and load_relation(rules_relation) is not none -%}
        {%- set rows = run_query("select distinct lower(trim(attribute)), lower(trim(match_type))"
                                 ~ " from " ~ rules_relation).rows -%}
    {%- endif -%}
    {%- set named = known | select('in', rows | map(attribute=0) | list) | list -%}
    {%- if not named -%}
        {{ return({'named': known, 'numeric': known}) }}
    {%- endif -%}
    {%- set compared = rows | selectattr(1, 'in', ['gte', 'lte']) | map(attribute=0) | list -%}
    {{ return({'named': named, 'numeric': known | select('in', compared) | list}) }}
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

{#- A score as shown, to one decimal. Rounded to 9 decimals first: decayed points are often
    exact binary fractions at a .x5 boundary (5 points two half-lives old: 1.25), and computed
    from the engagement sums with another epoch (a night's table against a full refresh) they
    come out a few units in the last bit either side of it; without this, 1.25 would show as
    1.2 or 1.3 depending on when the sums were last rebuilt. -#}
{% macro score_round(expr) -%}
    round(round({{ expr }}, 9), 1)
{%- endmacro %}

{#- Points as text with their sign and one decimal, for reasons: 10 -> '+10.0', -5 -> '-5.0'. -#}
{% macro signed_points(expr) -%}
    case when {{ expr }} >= 0 then '+' else '' end
        || cast({{ score_round(expr) }} as {{ dbt.type_string() }})
{%- endmacro %}
