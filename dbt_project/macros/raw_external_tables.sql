{#- The raw layer on engines that do not hold it: on Spark each raw table is an external table
    over its Parquet folder (<SALESPIPE_RAW_DIR>/<table>/, written by
    orchestration/engines/raw_parquet.py after ingestion), so source('raw', ...) works unchanged.
    Runs as on-run-start (dbt_project.yml). Tables: the var raw_tables (what salespipe exported),
    else every table of the `raw` source. Dropped and re-created each run: dropping an external
    table keeps its files, and a re-created table picks up columns a newer export added. -#}
{% macro raw_external_tables() -%}
    {{ return(adapter.dispatch('raw_external_tables', 'salespipe')()) }}
{%- endmacro %}

{#- DuckDB: ingestion lands raw tables in the warehouse itself; nothing to do. -#}
{% macro default__raw_external_tables() -%}
{%- endmacro %}

{% macro spark__raw_external_tables() -%}
    {%- if execute -%}
        {%- set location = env_var('SALESPIPE_RAW_DIR', '') -%}
        {%- if not location -%}
            {{ exceptions.raise_compiler_error(
                "SALESPIPE_RAW_DIR is not set: salespipe exports the raw tables to Parquet there "
                ~ "before dbt runs on Spark (run `salespipe run --engine spark`).") }}
        {%- endif -%}
        {%- set tables = var('raw_tables', none) -%}
        {%- if tables is none -%}
            {%- set tables = graph.sources.values() | selectattr('source_name', 'equalto', 'raw')
                             | map(attribute='name') | list -%}
        {%- endif -%}
        {%- if not adapter.check_schema_exists(none, 'raw') -%}
            {%- do run_query('create database raw') -%}
        {%- endif -%}
        {%- for table in tables -%}
            {%- do run_query('drop table if exists raw.' ~ table) -%}
            {%- do run_query('create table raw.' ~ table ~ " using parquet location '"
                             ~ location.rstrip('/') ~ '/' ~ table ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
