{#- One row per id: the latest load wins (a newer export of the same record), and within one
    file the first line wins (later duplicates are quarantined at ingest). Rows without an id
    stay out; they are in raw._quarantine.

    In an incremental model (the activity logs in staging) only rows landed after the newest
    `_loaded_at` the model already holds are ranked. The filter sits before the window on
    purpose: a filter on the model's output cannot be pushed below row_number(), so the window
    would rank the whole raw table on every run. It gives the same winners: the newest load of a
    record wins, so a record landed after the watermark wins over all its older loads, and the
    model's delete+insert on its id replaces the version it held. -#}
{% macro latest_records(relation, id_column) -%}
    select * from (
        select
            *,
            row_number() over (
                partition by {{ id_column }}
                order by _loaded_at desc, _source_file desc, _line asc
            ) as _recency_rank
        from {{ relation }}
        where {{ id_column }} is not null
        {%- if is_incremental() %}
            and _loaded_at > (
                select coalesce(max(_loaded_at),
                                cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }}))
                from {{ this }})
        {%- endif %}
    ) ranked
    where _recency_rank = 1
{%- endmacro %}
