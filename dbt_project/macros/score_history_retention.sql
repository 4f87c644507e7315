{#- Post-hook of marts.lead_score_history, its retention (var lead_score_history_days; 0 keeps
    every row). The table keeps changes, and a contact's state on day D is its latest row on or
    before D; so to know every state of the last N days, a contact needs its rows of those days
    plus its latest row from before them (unless that row says it was removed). Everything else
    older than N days before the run's as-of date goes. A run that re-scores an earlier date
    measures from that date, so it never deletes a newer row. -#}
{% macro drop_expired_score_history() -%}
    {%- set days = var('lead_score_history_days', 0) | int(-1) -%}
    {%- if days < 0 -%}
        {{ exceptions.raise_compiler_error(
            "var lead_score_history_days must be 0 (keep every scoring date) or a whole number "
            ~ "of days, got '" ~ var('lead_score_history_days') ~ "'; fix it in "
            ~ "dbt_project/dbt_project.yml or in --vars") }}
    {%- endif -%}
    {%- set cutoff = dbt.dateadd('day', -days, "cast('" ~ as_of_date() ~ "' as date)") -%}
    {%- set state_at_cutoff -%}
        select score_id from (
            select
                score_id,
                change_type,
                row_number() over (partition by contact_id order by scored_as_of desc) as recency
            from {{ this }}
            where scored_as_of <= {{ cutoff }}
        ) as ranked
        where recency = 1 and coalesce(change_type, '') <> 'removed'
    {%- endset -%}
    {{ delete_rows_if_any(this, "scored_as_of <= " ~ cutoff ~ " and score_id not in ("
                               ~ state_at_cutoff ~ ")", count=days > 0) }}
{%- endmacro %}
