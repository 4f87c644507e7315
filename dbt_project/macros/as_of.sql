{#- The moment figures are measured against: the end of the as-of day (var `as_of`, an ISO
    date; the run's date when unset), so everything that happened on that day counts. -#}
{% macro as_of_date() -%}
    {{ var('as_of') or run_started_at.strftime('%Y-%m-%d') }}
{%- endmacro %}

{% macro as_of_ts() -%}
    {{ dbt.dateadd('day', 1, "cast('" ~ as_of_date() ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}
