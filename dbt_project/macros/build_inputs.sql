{#- salespipe leaves a dbt build out when nothing it reads changed since the last build that
    passed (orchestration/transform/unchanged.py), vouched for by a record in the warehouse.
    Every dbt invocation drops that record before it writes anything, so a table built by any
    other run (a user's `dbt build --full-refresh`, `dbt run -s ...`, a Dagster subset) is never
    taken for the build the record describes. DuckDB only, as the record is. -#}
{% macro forget_build_inputs() -%}
    {{ return(adapter.dispatch('forget_build_inputs', 'salespipe')()) }}
{%- endmacro %}

{% macro default__forget_build_inputs() -%}
    select 1 as no_build_inputs_here
{%- endmacro %}

{% macro duckdb__forget_build_inputs() -%}
    drop table if exists meta.build_inputs
{%- endmacro %}
