{#- pipeline_waterfall's pieces. Periods are calendar months and quarters (their length in
    months), followed from their start to their end or to the end of the as-of day. -#}
{% macro waterfall_period_types() -%}
    {{ return({'month': 1, 'quarter': 3}) }}
{%- endmacro %}

{#- The end (exclusive) of the period of `period_type_col` starting at `start_col` (a date):
    its last day's end, or the as-of day's end for the current period. -#}
{% macro waterfall_window_end(period_type_col, start_col) -%}
    case
        {%- for name, months in waterfall_period_types().items() %}
        when {{ period_type_col }} = '{{ name }}' and
            cast({{ dbt.dateadd('month', months, start_col) }} as {{ dbt.type_timestamp() }})
            < {{ as_of_ts() }}
            then cast({{ dbt.dateadd('month', months, start_col) }} as {{ dbt.type_timestamp() }})
        {%- endfor %}
        else {{ as_of_ts() }}
    end
{%- endmacro %}

{#- The first day of the period of `period_type` holding the date `expr`. -#}
{% macro waterfall_period_start(period_type, expr) -%}
    cast({{ dbt.date_trunc(period_type, expr) }} as date)
{%- endmacro %}

{#- The first day of the period holding the date `expr`, the period type read from the column
    `period_type_col` (one of waterfall_period_types()). -#}
{% macro waterfall_period_start_of(period_type_col, expr) -%}
    case
        {%- for name in waterfall_period_types() %}
        when {{ period_type_col }} = '{{ name }}' then {{ waterfall_period_start(name, expr) }}
        {%- endfor %}
    end
{%- endmacro %}
