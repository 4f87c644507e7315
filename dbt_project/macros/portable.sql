{#- Engine differences live here, behind adapter.dispatch, so models stay portable. -#}

{#- First element of a `;`-separated id list ("12;15" -> "12"). -#}
{% macro first_list_item(expr, sep=';') -%}
    nullif(trim({{ dbt.split_part(expr, "'" ~ sep ~ "'", 1) }}), '')
{%- endmacro %}

{#- Hours between two timestamps, fractional. -#}
{% macro hours_between(start, end) -%}
    {{ return(adapter.dispatch('hours_between', 'salespipe')(start, end)) }}
{%- endmacro %}

{% macro default__hours_between(start, end) -%}
    ({{ dbt.datediff(start, end, 'second') }} / 3600.0)
{%- endmacro %}

{#- A whole number from text, null where the text is not one ("1-10" -> null). -#}
{% macro try_to_bigint(expr) -%}
    {{ return(adapter.dispatch('try_to_bigint', 'salespipe')(expr)) }}
{%- endmacro %}

{% macro default__try_to_bigint(expr) -%}
    try_cast({{ expr }} as {{ dbt.type_bigint() }})
{%- endmacro %}
