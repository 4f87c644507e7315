{#- Staging models shared by several CRMs. -#}

{#- The config of an activity log's staging model: incremental on the activity id, taking the
    records landed after the newest `_loaded_at` it holds (see latest_records); an activity
    deleted from the exports (a re-landed file without it) stays until
    `dbt build --full-refresh -s <the model>+`.
    `api_deletions`: the CRM's API reports deleted records (Pipedrive, Salesforce). A run keeps
    them in its rows, so delete+insert drops the version held, and the post-hook then removes
    them (is_deleted is false in every row left); see not_deleted().
    New columns are appended (a table built before `_built_at` gets it null in its old rows,
    which its scoped tests then read as written: tested whole once). -#}
{% macro activity_log_config(api_deletions=false) -%}
    {{ config(
        materialized='incremental',
        unique_key='source_activity_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=(["{% if is_incremental() %}{{ delete_rows(this, 'is_deleted') }}{% endif %}"]
                   if api_deletions else [])
    ) }}
{%- endmacro %}

{#- The end of an API activity log's select: the deletion flag, and a full build (or full
    refresh) leaves deleted records out; an incremental run keeps them (activity_log_config). -#}
{% macro not_deleted() -%}
    coalesce(is_deleted, false) as is_deleted
from latest
{%- if not is_incremental() %}
where not coalesce(is_deleted, false)
{%- endif %}
{%- endmacro %}

{#- The config of a staging model that an incremental run keeps equal to a full refresh,
    deletions included (the contact tables): a run ranks the records landed after the newest
    `_loaded_at` it holds and those whose load is gone from raw (latest_records with
    `staged_id`), and the post-hook deletes the ids left with no raw row at all. -#}
{% macro reranked_config(raw_table, unique_key) -%}
    {{ config(
        materialized='incremental',
        unique_key=unique_key,
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ drop_vanished_loads(source('raw', '" ~ raw_table ~ "')) }}"
    ) }}
{%- endmacro %}
