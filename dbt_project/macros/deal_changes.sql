{#- Deal change history (int_deal_changes, marts/changes). -#}

{#- True where a value changed, nulls included (null -> 5 and 5 -> null are changes). -#}
{% macro value_changed(a, b) -%}
    (coalesce({{ a }} <> {{ b }}, false) or (({{ a }} is null) <> ({{ b }} is null)))
{%- endmacro %}

{#- An amount as text, the same on every engine (a double's text is not: 1.0E7 on Spark). -#}
{% macro amount_text(expr) -%}
    cast(cast({{ expr }} as decimal(38, 2)) as {{ dbt.type_string() }})
{%- endmacro %}

{#- One change row of int_deal_changes from typed old/new values of `field`:
    kind 'amount', 'date' or 'text' says which typed columns are filled (a date's text is
    its day: close dates are timestamps in some sources). -#}
{% macro deal_change_columns(field, kind, old, new) -%}
    '{{ field }}' as field,
    {%- if kind == 'amount' %}
    {{ amount_text(old) }} as old_value,
    {{ amount_text(new) }} as new_value,
    cast({{ old }} as {{ type_double() }}) as old_amount,
    cast({{ new }} as {{ type_double() }}) as new_amount,
    {%- elif kind == 'date' %}
    cast(cast({{ old }} as date) as {{ dbt.type_string() }}) as old_value,
    cast(cast({{ new }} as date) as {{ dbt.type_string() }}) as new_value,
    cast(null as {{ type_double() }}) as old_amount,
    cast(null as {{ type_double() }}) as new_amount,
    {%- else %}
    cast({{ old }} as {{ dbt.type_string() }}) as old_value,
    cast({{ new }} as {{ dbt.type_string() }}) as new_value,
    cast(null as {{ type_double() }}) as old_amount,
    cast(null as {{ type_double() }}) as new_amount,
    {%- endif %}
    {%- if kind == 'date' %}
    cast({{ old }} as date) as old_date,
    cast({{ new }} as date) as new_date
    {%- else %}
    cast(null as date) as old_date,
    cast(null as date) as new_date
    {%- endif %}
{%- endmacro %}

{#- True where the time `ts` falls within the last `days` days up to the end of the as-of day
    (the as-of day is the first of them). -#}
{% macro within_last_days(ts, days) -%}
    ({{ ts }} < {{ as_of_ts() }}
     and {{ dbt.datediff('cast(' ~ ts ~ ' as date)', "cast('" ~ as_of_date() ~ "' as date)", 'day') }}
         < {{ days }})
{%- endmacro %}

{#- A whole number (a count, a threshold read from a seed) as text: "2", not "2.0". -#}
{% macro whole_text(expr) -%}
    cast(cast(round({{ expr }}, 0) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }})
{%- endmacro %}

{#- The native change rows of a history CTE `relation` (one row per recorded state of a deal,
    history_number 1, 2, ... in order, previous states' values lagged beside): for each
    (field, kind, old, new) of `fields`, the states where that value changed and `where` holds
    ("{field}" in it stands for the field's name). -#}
{% macro history_changes(relation, fields, where='history_number > 1') -%}
    {%- for field, kind, old, new in fields %}
    select
        deal_id,
        {{ deal_change_columns(field, kind, old, new) }},
        changed_at,
        cast(history_number as {{ dbt.type_bigint() }}) as change_seq,
        'native' as source
    from {{ relation }}
    where {{ where | replace('{field}', field) }} and {{ value_changed(old, new) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
