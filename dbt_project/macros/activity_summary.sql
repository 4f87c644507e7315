{#- How int_activity_summary is built this run: `rebuild` on a first build, and when the table
    was built before its rows were per holder and deal with the last touches (its pre-hook
    empties it; the new columns are appended), else incremental on the figures. -#}
{% macro activity_summary_plan() -%}
    {%- if not is_incremental() -%}
        {{ return({'rebuild': true, 'reason': 'first build'}) }}
    {%- elif 'summary_key' not in column_names(this) -%}
        {{ return({'rebuild': true, 'reason': 'built before its rows were per holder and deal'}) }}
    {%- endif -%}
    {{ return({'rebuild': false, 'reason': none}) }}
{%- endmacro %}
