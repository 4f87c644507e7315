{#- Incremental models and snapshots on Spark without a lakehouse table format.

    dbt-spark merges rows into an existing table only for delta/iceberg/hudi tables (MERGE INTO)
    and rejects `delete+insert`, the strategy the incremental models of this project use on
    DuckDB. The models stay as they are; these overrides of dbt-spark's own macros (a root-project
    macro wins over the adapter's of the same name) make any incremental model work:

    - file_format delta/iceberg/hudi (SALESPIPE_SPARK_FILE_FORMAT on a lakehouse cluster):
      delete+insert becomes dbt-spark's MERGE INTO on the unique key; same result when the new
      rows are unique on it, which delete+insert requires anyway.
    - any other file format (parquet, local Spark): the table is rebuilt, i.e. its rows whose key
      is not among the new rows plus the new rows are written to `<model>__dbt_rebuild`, then
      copied back with INSERT OVERWRITE (Spark cannot overwrite a table it reads in the same
      statement). Same rows as delete+insert; costs a rewrite of the table each run, which is
      fine for marts of this size and is why a cluster should use delta.

    Only used on Spark (these macros are called by dbt-spark's materializations alone). -#}

{% macro spark_supports_merge(file_format) -%}
    {{ return(file_format in ['delta', 'iceberg', 'hudi']) }}
{%- endmacro %}

{#- dbt-spark's validation, plus delete+insert (for any file format). -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
  {% set strategies = ['append', 'merge', 'insert_overwrite', 'microbatch', 'delete+insert'] %}
  {% if raw_strategy not in strategies %}
    {% do exceptions.raise_compiler_error(
        "Invalid incremental strategy provided: " ~ raw_strategy ~ ". Expected one of: "
        ~ strategies | join(', ')) %}
  {% endif %}
  {% if raw_strategy == 'merge' and not spark_supports_merge(file_format) %}
    {% do exceptions.raise_compiler_error(
        "Invalid incremental strategy provided: merge. You can only choose this strategy when "
        ~ "file_format is set to 'delta' or 'iceberg' or 'hudi' (use delete+insert)") %}
  {% endif %}
  {% if raw_strategy in ['insert_overwrite', 'microbatch'] and target.endpoint %}
    {% do exceptions.raise_compiler_error(
        "Invalid incremental strategy provided: " ~ raw_strategy ~ ". You cannot use this "
        ~ "strategy when connecting via endpoint. Use the 'append' or 'merge' strategy instead") %}
  {% endif %}
  {% do return(raw_strategy) %}
{% endmacro %}

{#- dbt-spark's dispatcher of incremental SQL, plus delete+insert. -#}
{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) %}
  {%- if strategy == 'append' -%}
    {{ get_insert_into_sql(source, target) }}
  {%- elif strategy == 'insert_overwrite' -%}
    {{ get_insert_overwrite_sql(source, target, existing) }}
  {%- elif strategy == 'microbatch' -%}
    {%- if not config.get('partition_by') -%}
      {{ exceptions.raise_compiler_error(
          "dbt-spark 'microbatch' incremental strategy requires a `partition_by` config.") }}
    {%- endif -%}
    {{ get_insert_overwrite_sql(source, target, existing) }}
  {%- elif strategy == 'merge' -%}
    {{ get_merge_sql(target, source, unique_key, dest_columns=none, incremental_predicates=incremental_predicates) }}
  {%- elif strategy == 'delete+insert' -%}
    {%- if spark_supports_merge(config.get('file_format', 'parquet')) -%}
      {{ get_merge_sql(target, source, unique_key, dest_columns=none, incremental_predicates=incremental_predicates) }}
    {%- else -%}
      {{ spark_rebuild_delete_insert(source, target, unique_key) }}
    {%- endif -%}
  {%- else -%}
    {%- do exceptions.raise_compiler_error("No known SQL for the incremental strategy provided: " ~ strategy) -%}
  {%- endif -%}
{% endmacro %}

{#- The rows of `target` not replaced by `source` (same unique key), then `source`'s rows, into a
    side table; then copied back over `target`. Returns the statement that drops the side table
    (the materialization's main statement). -#}
{% macro spark_rebuild_delete_insert(source, target, unique_key) %}
  {%- set keys = [unique_key] if unique_key is string else (unique_key or []) -%}
  {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted') | list -%}
  {%- set rebuild = target.incorporate(path={"identifier": target.identifier ~ '__dbt_rebuild'}) -%}
  {%- set kept -%}
    select {{ columns | join(', ') }} from {{ target }} as dbt_old
    {%- if keys %}
    where not exists (
        select 1 from {{ source }} as dbt_new
        where {% for key in keys %}dbt_new.{{ key }} = dbt_old.{{ key }}{{ ' and ' if not loop.last }}{% endfor %})
    {%- endif %}
  {%- endset -%}
  {%- do run_query('drop table if exists ' ~ rebuild) -%}
  {%- do run_query('create table ' ~ rebuild ~ ' using parquet as ' ~ kept
                   ~ ' union all select ' ~ columns | join(', ') ~ ' from ' ~ source) -%}
  {%- do run_query('insert overwrite table ' ~ target ~ ' select ' ~ columns | join(', ')
                   ~ ' from ' ~ rebuild) -%}
  drop table if exists {{ rebuild }}
{% endmacro %}

{#- A snapshot's new state without MERGE INTO: current versions that changed or disappeared get
    their dbt_valid_to from the staging rows, new versions are appended (what dbt-spark's
    snapshot merge does on delta). Same side-table-and-copy-back as above. -#}
{% macro spark_rebuild_snapshot(target, staging) %}
  {%- set names = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() -%}
  {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
  {%- set rebuild = target.incorporate(path={"identifier": target.identifier ~ '__dbt_rebuild'}) -%}
  {%- set select_sql -%}
    select
    {%- for column in columns %}
      {% if column == names.dbt_valid_to -%}
        case when dbt_closed.{{ names.dbt_scd_id }} is not null then dbt_closed.{{ names.dbt_valid_to }}
             else dbt_old.{{ names.dbt_valid_to }} end as {{ adapter.quote(column) }}
      {%- else -%}
        dbt_old.{{ adapter.quote(column) }}
      {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ target }} as dbt_old
    left join (
        select {{ names.dbt_scd_id }}, {{ names.dbt_valid_to }} from {{ staging }}
        where dbt_change_type in ('update', 'delete')
    ) as dbt_closed
      on dbt_closed.{{ names.dbt_scd_id }} = dbt_old.{{ names.dbt_scd_id }}
     and dbt_old.{{ names.dbt_valid_to }} is null
    union all
    select {% for column in columns %}{{ adapter.quote(column) }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ staging }} where dbt_change_type = 'insert'
  {%- endset -%}
  {%- do run_query('drop table if exists ' ~ rebuild) -%}
  {%- do run_query('create table ' ~ rebuild ~ ' using parquet as ' ~ select_sql) -%}
  {%- do run_query('insert overwrite table ' ~ target ~ ' select * from ' ~ rebuild) -%}
  drop table if exists {{ rebuild }}
{% endmacro %}
