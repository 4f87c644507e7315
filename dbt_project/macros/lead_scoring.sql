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

{#- The fit rules of `rules_relation` (seed lead_score_fit_rules) as the matches hold them:
    attribute and match type lower-cased and trimmed, points as a double; with the match
    value normalised once for the matching (an `in` list framed with '|' so one position()
    finds a whole item). int_lead_fit_matches matches with it, and int_lead_score_parts words
    and ranks the rules from it, so both read the same rule. -#}
{% macro lead_fit_rules(rules_relation) -%}
    select
        rule_id,
        lower(trim(attribute)) as attribute,
        lower(trim(match_type)) as match_type,
        match_value,
        lower(trim(match_value)) as match_text,
        '|' || replace(replace(lower(trim(match_value)), ' |', '|'), '| ', '|') || '|'
            as match_list,
        {{ try_to_double('match_value') }} as match_number,
        cast(points as {{ type_double() }}) as points
    from {{ rules_relation }}
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

{#- The per-contact parts of a score (int_lead_score_parts) and the score read from them
    (lead_scores). The parts do not depend on the as-of date: fit points, rules fired, the top
    lead_score_top_reasons fit reasons in their order, and per activity type the count and the
    points undecayed (points x the engagement sums' weight, relative to their epoch). lead_scores
    applies the decay factor of the as-of date, the cap, the grade and merges the two lists. -#}

{#- Undecayed engagement points (relative to the engagement sums' epoch `epoch_day`) decayed to
    the as-of date: points x 2^-((as_of - epoch_day) / half-life). -#}
{% macro engagement_decayed(points, epoch_day) -%}
    {{ points }} * power(cast(2 as {{ type_double() }}),
        - {{ dbt.datediff(epoch_day, "cast('" ~ as_of_date() ~ "' as date)", 'day') }}
        / cast({{ var('lead_score_half_life_days') }} as {{ type_double() }}))
{%- endmacro %}

{#- How many engagement slots a parts row has: one per activity type with points (a contact has
    at most one row per type). Every type is kept, not the top N: two types' decayed points may
    round to the same 9 decimals on a later as-of date (everything decays towards 0), and then
    their words decide the order, so which of them ranks in the top N is only known when read.
    Read from the points seed when run; 0 while parsing or before the seed is loaded. -#}
{% macro engagement_slot_count() -%}
    {%- set points = ref('lead_score_engagement_points') -%}
    {%- if not execute or load_relation(points) is none -%}
        {{ return(0) }}
    {%- endif -%}
    {{ return(run_query("select count(distinct activity_type) from " ~ points
                        ~ " where points <> 0").columns[0].values()[0] | int) }}
{%- endmacro %}

{#- What every parts row depends on besides its contact's inputs: the fit rules (reasons are
    worded from them), the points seed, the half-life and N, and what a slot holds (rows written
    before a slot kept its newest day would keep it null: a table holding them is rebuilt).
    A different hash rebuilds. -#}
{% macro lead_score_parts_signature() -%}
    {%- set text = dbt.type_string() -%}
    {{ return(local_md5(fit_matches_signature() ~ '|' ~ rows_signature(
        "select cast(activity_type as " ~ text ~ "), cast(points as " ~ text ~ ") from "
        ~ ref('lead_score_engagement_points') ~ " order by 1, 2",
        'points|half_life=' ~ var('lead_score_half_life_days')
        ~ '|top=' ~ var('lead_score_top_reasons') ~ '|slot=type,count,points,newest_day'))) }}
{%- endmacro %}

{% macro lead_score_parts_plan() -%}
    {{ return(built_through_plan(lead_score_parts_signature,
                                 'the fit rules, points, half-life or top reasons changed')) }}
{%- endmacro %}

{#- The contacts whose parts a night recomputes, as a query: written since the parts' last
    build (`built_through`) by dim_contacts (profile, or activity figures: a holder that lost
    activities, or a deal's old primary contact, shows there), int_lead_fit_matches, the
    engagement sums (a holder rewritten, mapped to its contact now) or int_activity_summary (a
    holder whose contact changed: a deal's new primary contact). -#}
{% macro lead_score_changed_contacts(plan) -%}
    {%- set since = "_built_at > cast('" ~ plan.built_through ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}
    select contact_id from {{ ref('dim_contacts') }} where {{ since }}
    union
    select contact_id from {{ ref('int_lead_fit_matches') }} where {{ since }}
    union
    select contact_id from {{ ref('int_activity_summary') }} where {{ since }}
    union
    select case when s.via_deal then d.primary_contact_id else s.holder_id end
    from {{ ref('int_lead_engagement_sums') }} as s
    left join {{ ref('int_deals') }} as d on s.via_deal and s.holder_id = d.deal_id
    where s.{{ since }}
{%- endmacro %}

{#- The reasons a lead_scores row can list: its parts row's top fit reasons (slots 1..top, in
    their order) and every engagement type (slots 1..slots), each with the SQL of its weight,
    as lead_scores names them. -#}
{% macro lead_score_candidates(top, slots) -%}
    {%- set candidates = [] -%}
    {%- for n in range(1, top + 1) -%}
        {%- do candidates.append({'fit': true, 'slot': n, 'weight': 'fit_weight_' ~ n,
                                  'tie_group': 'fit_tie_group_' ~ n}) -%}
    {%- endfor -%}
    {%- for k in range(1, slots + 1) -%}
        {%- do candidates.append({'fit': false, 'slot': k, 'weight': 'engagement_weight_' ~ k,
                                  'tie_group': '1'}) -%}
    {%- endfor -%}
    {{ return(candidates) }}
{%- endmacro %}

{#- True when reason `a` is listed before reason `b` (both present): larger absolute points
    first; on equal points fit reasons before or after every engagement reason by their words
    (tie_group 0 / 2, engagement 1), fit reasons in their kept order, engagement reasons by
    their words, which is the order of their slots (int_lead_score_parts). Only numbers are
    compared, and the slots' order is known here. -#}
{% macro reason_listed_before(a, b) -%}
    {%- if a.fit == b.fit -%}
        {%- if a.fit -%}
            {{ 'true' if a.slot < b.slot else 'false' }}
        {%- else -%}
            {{ a.weight }} {{ '>=' if a.slot < b.slot else '>' }} {{ b.weight }}
        {%- endif -%}
    {%- else -%}
        ({{ a.weight }} > {{ b.weight }}
         or ({{ a.weight }} = {{ b.weight }} and {{ a.tie_group }} < {{ b.tie_group }}))
    {%- endif -%}
{%- endmacro %}

{#- The place of reason `c` among the present reasons: 1 + how many are listed before it.
    Counting instead of sorting keeps lead_scores a projection of one row per contact. -#}
{% macro reason_place(c, candidates) -%}
    1
    {%- for other in candidates if other != c %}
    + case when {{ other.weight }} is not null and {{ reason_listed_before(other, c) }}
        then 1 else 0 end
    {%- endfor -%}
{%- endmacro %}
