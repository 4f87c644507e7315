{#- Data tests of incremental models that read only the rows written since the test last passed,
    where that is equivalent to testing every row:
    - uniqueness (tests/generic/unique_since_tested.sql, unique_column_combination with
      `since_column`): the values of the written rows against the whole table;
    - row-wise tests (not_null_columns, not_null, accepted_values: a row passes or fails on its
      own values), marked with `meta: {tested_since: <column>}` in the test's config: only the
      written rows (macros/test_where.sql).
    The model's `since` column is its `_built_at`: when the dbt run that wrote a row started. It
    is equivalent because every run that writes a row stamps it (delete+insert or append, no
    UPDATE: a row not written keeps its values), so a row older than the watermark was in the
    table, as it is, when the test last passed.

    meta.tested_through holds, per test, the newest `since` value of the model when the test
    last passed. The on-run-end hook moves it forward for the tests of this run that passed, so
    rows written by a run that failed or stopped before its tests are tested by the next one, a
    row that fails keeps failing until it is fixed (the watermark stays), and a full refresh
    (every row written anew) is tested whole. A test's watermark is keyed on its unique_id
    (which changes with its arguments, e.g. the columns of not_null_columns) and on its since
    column and `where`: a test changed in those is tested whole once.

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

{#- The watermark's key of a test (see above). -#}
{% macro tested_through_key(unique_id, since_column, where) -%}
    {{ return(unique_id ~ ':' ~ local_md5(since_column ~ '|' ~ (where or ''))) }}
{%- endmacro %}

{#- The since column of a test node that reads only written rows, or none. -#}
{% macro tested_since_column(node) -%}
    {%- set kwargs = node.test_metadata.kwargs if node.test_metadata is defined
                     and node.test_metadata is not none else {} -%}
    {{ return(kwargs.get('since_column') or (node.config.meta or {}).get('tested_since')) }}
{%- endmacro %}

{#- The watermark of the test being run, as a timestamp literal (a literal lets DuckDB skip the
    row groups written before it), or none before its first pass, while parsing and on other
    adapters (the test then reads every row). -#}
{% macro tested_through(since_column) -%}
    {%- if not execute or target.type != 'duckdb' or model.resource_type != 'test' -%}
        {{ return(none) }}
    {%- endif -%}
    {#- absent until a command that runs the on-run-start hook (not `dbt compile`) -#}
    {%- if adapter.get_relation(database=target.database, schema='meta',
                                identifier='tested_through') is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set key = tested_through_key(model.unique_id, since_column, config.get('where')) -%}
    {%- set newest = run_query("select cast(max(tested_through) as varchar) from "
                               ~ tested_through_relation() ~ " where test_id = '" ~ key ~ "'")
                     .columns[0].values()[0] -%}
    {{ return(none if newest is none else "cast('" ~ newest ~ "' as timestamp)") }}
{%- endmacro %}

{#- The rows written since `watermark` (a null since value counts as written). -#}
{% macro written_since(since_column, watermark) -%}
    ({{ since_column }} > {{ watermark }} or {{ since_column }} is null)
{%- endmacro %}

{#- The combinations of `columns` that occur more than once, counted over the whole of `model`;
    with a `since_column` that has a watermark, only those a row written since the test last
    passed has (null equal to null, as `group by` has it). `skip_nulls`: rows with a null in
    the columns are left out (dbt's `unique`). -#}
{% macro duplicates_since_tested(model, columns, since_column=none, skip_nulls=false) -%}
{%- set watermark = tested_through(since_column) if since_column else none %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
{%- if watermark is not none %}
inner join (
    select distinct
    {%- for column in columns %} {{ column }} as written_{{ loop.index }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ model }}
    where {{ written_since(since_column, watermark) }}
) as written
    on {% for column in columns -%}
    {{ column }} is not distinct from written_{{ loop.index }}{{ ' and ' if not loop.last }}
    {%- endfor %}
{%- endif %}
{%- if skip_nulls %}
where {% for column in columns %}{{ column }} is not null{{ ' and ' if not loop.last }}{% endfor %}
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{%- endmacro %}

{#- on-run-end: the passed tests of this run that read only written rows record the newest
    `since` value of their model. -#}
{% macro record_tested_through(results) -%}
    {{ return(adapter.dispatch('record_tested_through', 'salespipe')(results)) }}
{%- endmacro %}

{% macro default__record_tested_through(results) -%}
    select 1 as no_watermarks_here
{%- endmacro %}

{% macro duckdb__record_tested_through(results) -%}
    {#- the test's earlier keys go too -#}
    {%- set statements = [] -%}
    {%- for result in results
        if result.node.resource_type == 'test' and result.status == 'pass'
        and tested_since_column(result.node) -%}
        {%- set since = tested_since_column(result.node) -%}
        {%- set key = tested_through_key(result.node.unique_id, since, result.node.config.where) -%}
        {%- set model = graph.nodes[result.node.attached_node].relation_name -%}
        {%- do statements.append(
            "delete from " ~ tested_through_relation() ~ " where test_id = '"
            ~ result.node.unique_id ~ "' or test_id like '" ~ result.node.unique_id ~ ":%'") -%}
        {%- do statements.append(
            "insert into " ~ tested_through_relation() ~ " select '" ~ key
            ~ "', max(" ~ since ~ "), now() from " ~ model) -%}
    {%- endfor -%}
    {{ statements | join(';\n') if statements else 'select 1 as nothing_to_record' }}
{%- endmacro %}
