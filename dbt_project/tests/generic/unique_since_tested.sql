{#- `unique`, for a table kept across runs: the values of the rows written since this test last
    passed (`since_column` newer than its watermark, macros/tested_through.sql) must occur once
    in the whole table. A duplicate between a new row and an old one fails it; old rows among
    themselves were tested when they were written. Its cost grows with the rows a run wrote
    (plus a scan of the column), not with all of them. Before its first pass (a first build)
    it is dbt's plain `unique`, which is cheaper when every row is new. -#}
{% test unique_since_tested(model, column_name, since_column) %}
{{ duplicates_since_tested(model, [column_name], since_column, skip_nulls=true) }}
{% endtest %}
