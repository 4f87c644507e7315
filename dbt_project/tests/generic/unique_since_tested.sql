{#- `unique`, for a table kept across runs: the values of the rows written since this test last
    passed (`since_column` newer than its watermark, macros/tested_through.sql) must occur once
    in the whole table. A duplicate between a new row and an old one fails it; old rows among
    themselves were tested when they were written. Its cost grows with the rows a run wrote
    (plus a scan of the column), not with all of them. Before its first pass (a first build)
    it is dbt's plain `unique`, which is cheaper when every row is new. -#}
{% test unique_since_tested(model, column_name, since_column) %}
select {{ column_name }}, count(*) as occurrences
from {{ model }}
where {{ column_name }} is not null
{%- if has_tested_through() %}
    and {{ column_name }} in (
        select {{ column_name }} from {{ model }}
        where {{ since_column }} > {{ tested_through() }}
    )
{%- endif %}
group by {{ column_name }}
having count(*) > 1
{% endtest %}
