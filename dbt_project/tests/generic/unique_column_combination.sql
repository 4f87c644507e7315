{#- Fails for every combination of `columns` that occurs more than once (dbt has no built-in
    multi-column unique test and the project carries no packages). -#}
{% test unique_column_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
