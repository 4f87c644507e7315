{#- How int_activity_summary is built this run: `rebuild` on a first build, and when the table
    was built before its rows were per holder and deal with the last touches, or before they
    held the owners' last activity (its pre-hook empties it; the new columns are appended: an
    incremental run would leave them null on the rows it does not rewrite), else incremental on
    the figures. -#}
{% macro activity_summary_plan() -%}
    {%- if not is_incremental() -%}
        {{ return({'rebuild': true, 'reason': 'first build'}) }}
    {%- elif 'summary_key' not in column_names(this) -%}
        {{ return({'rebuild': true, 'reason': 'built before its rows were per holder and deal'}) }}
    {%- elif 'last_owner_activity_at' not in column_names(this) -%}
        {{ return({'rebuild': true, 'reason': "built before it held the owners' last activity"}) }}
    {%- endif -%}
    {{ return({'rebuild': false, 'reason': none}) }}
{%- endmacro %}
