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

{#- Continuous (interpolated) percentile of `expr` within a group, `fraction` in [0, 1]. -#}
{% macro percentile_cont(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'salespipe')(expr, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro postgres__percentile_cont(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{#- A number from text, null where the text is not one ("Yes" -> null); dbt.safe_cast is a
    plain cast on DuckDB. Used by lead scoring's gte/lte rules. -#}
{% macro try_to_double(expr) -%}
    {{ return(adapter.dispatch('try_to_double', 'salespipe')(expr)) }}
{%- endmacro %}

{% macro default__try_to_double(expr) -%}
    try_cast({{ expr }} as {{ type_double() }})
{%- endmacro %}

{#- An 8-byte float type: dbt.type_float() is a 4-byte REAL on DuckDB. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'salespipe')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}
