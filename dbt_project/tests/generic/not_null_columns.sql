{#- A model's column not_null tests as one test (one scan of the model instead of one query per
    column, and one dbt node instead of one per column). It returns a row per column that has
    nulls: the column's name and how many rows hold null in it; the test's failure count is
    the sum of those rows, as the per-column tests counted them. salespipe names the failing
    columns and their counts in its run error and in the Dagster asset check's metadata
    (orchestration/transform/null_columns.py). -#}
{% test not_null_columns(model, columns) %}
{{ config(fail_calc='coalesce(sum(null_rows), 0)') }}
with null_counts as (
    select
    {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as nulls_{{ loop.index }}
        {%- if not loop.last %},{% endif %}
    {%- endfor %}
    from {{ model }}
)
{%- for column in columns %}
select '{{ column }}' as column_name, nulls_{{ loop.index }} as null_rows
from null_counts
where nulls_{{ loop.index }} > 0
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{% endtest %}
