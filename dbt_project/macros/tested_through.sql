{#- Uniqueness of an incremental mart tested on the rows written since the test last passed,
    not on all history (tests/generic/unique_since_tested.sql).

    meta.tested_through holds, per test, the newest value of the mart's `since` column (its
    `_built_at`: when the dbt run that wrote a row started) when the test last passed. The
    on-run-end hook moves it forward for the tests of this run that passed, so rows written by a
    run that failed or stopped before its tests are tested by the next one, and a full refresh
    (every row written anew) is tested whole.

    DuckDB only: on other adapters the watermark is always the start of time (the test reads the
    whole table) and nothing is recorded. -#}

{% macro tested_through_relation() -%}
    meta.tested_through
{%- endmacro %}

{#- on-run-start -#}
{% macro create_tested_through() -%}
    {{ return(adapter.dispatch('create_tested_through', 'salespipe')()) }}
{%- endmacro %}

{% macro default__create_tested_through() -%}
    select 1 as no_watermarks_here
{%- endmacro %}

{% macro duckdb__create_tested_through() -%}
    create schema if not exists meta;
    create table if not exists {{ tested_through_relation() }} (
        test_id varchar, tested_through timestamp, recorded_at timestamp)
{%- endmacro %}

{#- The watermark of the test being compiled, as SQL. -#}
{% macro tested_through() -%}
    {{ return(adapter.dispatch('tested_through', 'salespipe')()) }}
{%- endmacro %}

{% macro default__tested_through() -%}
    cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__tested_through() -%}
    (select coalesce(max(tested_through), cast('1900-01-01 00:00:00' as timestamp))
     from {{ tested_through_relation() }}
     where test_id = '{{ model.unique_id }}')
{%- endmacro %}

{#- Whether the test being run has passed before (at run time; never on other adapters). -#}
{% macro has_tested_through() -%}
    {%- if not execute or target.type != 'duckdb' -%}{{ return(false) }}{%- endif -%}
    {#- absent until a command that runs the on-run-start hook (not `dbt compile`) -#}
    {%- if adapter.get_relation(database=target.database, schema='meta',
                                identifier='tested_through') is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query("select count(*) from " ~ tested_through_relation()
                              ~ " where test_id = '" ~ model.unique_id ~ "'") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- on-run-end: the passed unique_since_tested tests of this run record the newest `since`
    value of their mart. -#}
{% macro record_tested_through(results) -%}
    {{ return(adapter.dispatch('record_tested_through', 'salespipe')(results)) }}
{%- endmacro %}

{% macro default__record_tested_through(results) -%}
    select 1 as no_watermarks_here
{%- endmacro %}

{% macro duckdb__record_tested_through(results) -%}
    {%- set statements = [] -%}
    {%- for result in results
        if result.node.resource_type == 'test' and result.status == 'pass'
        and result.node.test_metadata is defined and result.node.test_metadata is not none
        and result.node.test_metadata.name == 'unique_since_tested' -%}
        {%- set mart = graph.nodes[result.node.attached_node].relation_name -%}
        {%- set since = result.node.test_metadata.kwargs.since_column -%}
        {%- do statements.append(
            "delete from " ~ tested_through_relation() ~ " where test_id = '"
            ~ result.node.unique_id ~ "'") -%}
        {%- do statements.append(
            "insert into " ~ tested_through_relation() ~ " select '" ~ result.node.unique_id
            ~ "', max(" ~ since ~ "), now() from " ~ mart) -%}
    {%- endfor -%}
    {{ statements | join(';\n') if statements else 'select 1 as nothing_to_record' }}
{%- endmacro %}
