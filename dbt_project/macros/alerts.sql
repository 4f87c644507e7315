{#- A figure in days as text with one decimal, for alert reasons ("41.7"). -#}
{% macro alert_days_text(expr) -%}
    cast(round(cast({{ expr }} as {{ dbt.type_numeric() }}), 1) as {{ dbt.type_string() }})
{%- endmacro %}
