{#- dbt's `where` config of data tests, plus one placeholder: __as_of_date__ is replaced by the
    run's as-of date while the test runs. A test of a table kept across runs can then read only
    the rows the run wrote (lead_score_history: one scoring date), so its cost does not grow
    with the nights kept; the date stays out of dbt's parse state (see as_of.sql). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace('__as_of_date__', "cast('" ~ as_of_date() ~ "' as date)") -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
