{#- The moment figures are measured against: the end of the as-of day, so everything that
    happened on that day counts. The date comes from the var `as_of` (dbt unit tests and manual
    runs), else from SALESPIPE_AS_OF (what `salespipe run --as-of` sets), else the run's date.
    SALESPIPE_AS_OF is read only while executing, never while parsing: a value dbt sees at parse
    time becomes part of the parse state, and every new date would force a full re-parse of the
    project instead of reusing the prepared one (target/partial_parse.msgpack). -#}
{% macro as_of_date() -%}
    {%- set from_env = env_var('SALESPIPE_AS_OF', '') if execute else '' -%}
    {{ var('as_of', none) or from_env or run_started_at.strftime('%Y-%m-%d') }}
{%- endmacro %}

{% macro as_of_ts() -%}
    {{ dbt.dateadd('day', 1, "cast('" ~ as_of_date() ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}
