{#- dbt's `where` config of data tests, plus two scopes for tests of tables kept across runs, so
    their cost does not grow with the history kept:
    - the placeholder __as_of_date__ is replaced by the run's as-of date while the test runs
      (lead_score_history: one scoring date); the date stays out of dbt's parse state (see
      as_of.sql);
    - `meta: {tested_since: <column>}`: the test reads only the rows written since it last
      passed (macros/tested_through.sql). Only for tests where a row passes or fails on its own
      values: a uniqueness or relationships test must see the other rows too. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append(
            where | replace('__as_of_date__', "cast('" ~ as_of_date() ~ "' as date)")) -%}
    {%- endif -%}
    {%- set since = (config.get('meta') or {}).get('tested_since') -%}
    {%- if since -%}
        {%- set watermark = tested_through(since) if execute and row_wise_test() else none -%}
        {%- if watermark is not none -%}
            {%- do conditions.append(written_since(since, watermark)) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where (' ~ conditions | join(') and (')
                      ~ ')) dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- Whether the test being compiled decides on each row alone (may read only written rows). -#}
{% macro row_wise_test() -%}
    {%- set name = model.test_metadata.name if model.test_metadata is defined
                   and model.test_metadata is not none else '' -%}
    {%- if name not in ['not_null', 'not_null_columns', 'accepted_values',
                        'expression_is_true_for_each_row'] -%}
        {{ exceptions.raise_compiler_error("meta tested_since on " ~ model.unique_id ~ ": only "
            ~ "for tests that decide on each row alone (a " ~ name ~ " test reads other rows)") }}
    {%- endif -%}
    {{ return(true) }}
{%- endmacro %}
