{#- Post-hook of marts.lead_score_history, its retention (var lead_score_history_days; 0 keeps
    every date): scoring dates more than N days before the run's as-of date go. A run that
    re-scores an earlier date measures from that date, so it never deletes a newer one. -#}
{% macro drop_expired_score_history() -%}
    {%- set days = var('lead_score_history_days', 0) | int(-1) -%}
    {%- if days < 0 -%}
        {{ exceptions.raise_compiler_error(
            "var lead_score_history_days must be 0 (keep every scoring date) or a whole number "
            ~ "of days, got '" ~ var('lead_score_history_days') ~ "'; fix it in "
            ~ "dbt_project/dbt_project.yml or in --vars") }}
    {%- endif -%}
    {{ delete_rows_if_any(this, "scored_as_of <= " ~ dbt.dateadd(
        'day', -days, "cast('" ~ as_of_date() ~ "' as date)"), count=days > 0) }}
{%- endmacro %}
