{#- One row per id: the latest load wins (a newer export of the same record), and within one
    file the first line wins (later duplicates are quarantined at ingest). Rows without an id
    stay out; they are in raw._quarantine.

    In an incremental model only some ids are ranked, and the model's delete+insert on its id
    replaces the versions it held. The filter sits before the window on purpose: a filter on
    the model's output cannot be pushed below row_number(), so the window would rank the whole
    raw table on every run.

    - Without `staged_id` (the activity logs): the rows landed after the newest `_loaded_at` the
      model holds. Same winners: the newest load of a record wins, so a record landed after the
      watermark wins over all its older loads. A record deleted from the exports stays.
    - With `staged_id` (the model's name for the id; the contact tables, whose model keeps
      `_load_id`): also the ids whose version here came from a load that is gone from raw (its
      file was re-landed or replaced), ranked over all their raw rows, so they fall back to an
      older file's version. Ids left with no raw row at all are deleted by the post-hook
      `drop_vanished_loads`. The model then equals a full refresh, deletions included. A table
      built before the model kept `_load_id` is upgraded in place: the run ranks every raw row
      (the new columns are appended, on_schema_change append_new_columns, and every row is
      replaced or, without a raw row, dropped by the post-hook). -#}
{% macro latest_records(relation, id_column, staged_id=none) -%}
    {#- a dbt unit test's `this` is its given rows (a name, not a relation) -#}
    {%- set tracked = staged_id is not none and is_incremental()
                      and (this is string or '_load_id' in column_names(this)) -%}
    select * from (
        select
            *,
            row_number() over (
                partition by {{ id_column }}
                order by _loaded_at desc, _source_file desc, _line asc
            ) as _recency_rank
        from {{ relation }}
        where {{ id_column }} is not null
        {%- if is_incremental() and staged_id is none %}
            and _loaded_at > {{ staged_watermark() }}
        {%- elif tracked %}
            and {{ id_column }} in (
                select {{ id_column }} from {{ relation }}
                where _loaded_at > {{ staged_watermark() }}
                union all
                select {{ staged_id }} from {{ this }}
                where _load_id in ({{ vanished_loads(relation) }})
            )
        {%- endif %}
    ) ranked
    where _recency_rank = 1
{%- endmacro %}

{#- Lower-cased column names of a relation (at run time; none while dbt parses). -#}
{% macro column_names(relation) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {{ return(adapter.get_columns_in_relation(relation) | map(attribute='name')
              | map('lower') | list) }}
{%- endmacro %}

{% macro staged_watermark() -%}
    (select coalesce(max(_loaded_at),
                     cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }}))
     from {{ this }})
{%- endmacro %}

{#- Loads the model holds rows of that raw no longer has (their file was landed again). -#}
{% macro vanished_loads(relation) -%}
    select _load_id from {{ this }}
    except
    select _load_id from {{ relation }}
{%- endmacro %}

{#- Post-hook of the models that pass `staged_id`: after delete+insert, rows of a vanished load
    (or of none: a table upgraded in place) are left only for ids that have no raw row any more
    (deleted from the exports). A first build has none. -#}
{% macro drop_vanished_loads(relation) -%}
    {{ delete_rows_if_any(this,
        "_load_id is null or _load_id in (" ~ vanished_loads(relation) ~ ")",
        count=is_incremental()) }}
{%- endmacro %}
