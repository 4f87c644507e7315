{#- Fails for every combination of `columns` that occurs more than once (dbt has no built-in
    multi-column unique test and the project carries no packages). With `since_column` (a table
    kept across runs), only the combinations of the rows written since the test last passed are
    looked for in the whole table, as unique_since_tested does. -#}
{% test unique_column_combination(model, columns, since_column=none) %}
{{ duplicates_since_tested(model, columns, since_column) }}
{% endtest %}
