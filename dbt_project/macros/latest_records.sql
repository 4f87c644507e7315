{#- One row per id: the latest load wins (a newer export of the same record), and within one
    file the first line wins (later duplicates are quarantined at ingest). Rows without an id
    stay out; they are in raw._quarantine. -#}
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
    ) ranked
    where _recency_rank = 1
{%- endmacro %}
