{#- Fails for every row where `expression` is not true (null counts as not true). -#}
{% test expression_is_true_for_each_row(model, column_name, expression) %}
select *
from {{ model }}
where not coalesce({{ expression }}, false)
{% endtest %}
