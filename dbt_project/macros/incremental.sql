{#- Incremental marts (fct_activities, fct_deal_stage_transitions, pipeline_daily): their config,
    and what changed since the
    newest landing time a mart already holds. Portable SQL only: plain selects over the raw
    tables, each record's landing time `_loaded_at` (set by the ingest, see raw._loads). -#}

{#- The config of an incremental mart: a run deletes the rows whose `unique_key` it rebuilds and
    inserts them again (delete+insert, which Spark runs too: macros/spark_incremental.sql), and
    a column added to or removed from the model stops the run until a full refresh rebuilds the
    mart (on_schema_change 'fail'; 'append_new_columns' for a model that rebuilds itself when it
    lacks its build columns). `pre_hook`, `post_hook`: SQL run before and after each build. -#}
{% macro incremental_mart_config(unique_key, post_hook=[], pre_hook=[], on_schema_change='fail') -%}
    {{ config(
        materialized='incremental',
        unique_key=unique_key,
        incremental_strategy='delete+insert',
        on_schema_change=on_schema_change,
        pre_hook=pre_hook,
        post_hook=post_hook
    ) }}
{%- endmacro %}

{#- The newest landing time already in `relation` (the mart being built incrementally). -#}
{% macro loaded_watermark(relation) -%}
    (select coalesce(max(loaded_at), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }}))
     from {{ relation }})
{%- endmacro %}

{#- The same, read when the model runs and written into its SQL as a timestamp literal: a
    comparison with a literal, unlike one with a subquery, is pushed through a view (such as
    int_activities) down to the scans of the tables under it, so an incremental run reads only
    the new rows of each. -#}
{% macro loaded_watermark_literal(relation) -%}
    {%- set newest = none -%}
    {%- if execute -%}
        {#- as text from the engine: a timestamp fetched into Python would be shifted into the
            client's time zone on Spark, while the literal is read in the session's -#}
        {%- set newest = run_query("select cast(max(loaded_at) as " ~ dbt.type_string() ~ ") from "
                                   ~ relation).columns[0].values()[0] -%}
    {%- endif -%}
    cast('{{ newest if newest is not none else "1900-01-01 00:00:00" }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- One row per deal (canonical, source-prefixed id) with the newest landing time of any record
    its stage history is built from: the deal row (HubSpot and generic stage dates land with it,
    the snapshot follows it) and ActiveCampaign's deal activity log. With `since`, only deals
    with a record landed after it: the deals an incremental run rebuilds. -#}
{% macro deal_loaded_at(since=none) -%}
    {#- (raw table, its deal id column, its source): HubSpot and generic stage dates land with
        the deal row; ActiveCampaign, Pipedrive and Salesforce (API) keep a change log beside it.
        The generic export names its source in a column. -#}
    {%- set records = [
        ('hubspot_deals', 'record_id', 'hubspot'),
        ('activecampaign_deals', 'id', 'activecampaign'),
        ('activecampaign_deal_activities', 'd_id', 'activecampaign'),
        ('generic_deals', 'deal_id', none),
        ('pipedrive_deals', 'id', 'pipedrive'),
        ('pipedrive_deal_changes', 'deal_id', 'pipedrive'),
        ('salesforce_opportunities', 'id', 'salesforce'),
        ('salesforce_opportunity_history', 'opportunity_id', 'salesforce'),
    ] %}
    select deal_id, max(loaded_at) as loaded_at
    from (
        {%- for table, id, crm in records %}
        {{ 'union all' if not loop.first }}
        select
            {{ source_id(id, crm) if crm else source_id(id, source_column='source_system') }}
                as deal_id,
            _loaded_at as loaded_at
        from {{ source('raw', table) }}
        {%- endfor %}
    ) as records
    where deal_id is not null
    {%- if since is not none %} and loaded_at > {{ since }}{% endif %}
    group by deal_id
{%- endmacro %}

{#- fct_deal_stage_transitions' post-hook: a deal whose history got shorter (a reopened generic
    deal loses its inferred close) keeps stays numbered past its current one after an
    incremental run; those are dropped. A no-op after a full build. -#}
{% macro drop_surplus_stays(relation) -%}
    {%- set condition -%}
        transition_id in (
            select t.transition_id
            from {{ relation }} as t
            inner join (
                select deal_id, min(entry_number) as current_entry
                from {{ relation }}
                where is_current
                group by deal_id
            ) as c on t.deal_id = c.deal_id
            where t.entry_number > c.current_entry
        )
    {%- endset -%}
    {#- delete_rows (macros/portable.sql): Spark's parquet tables have no DELETE -#}
    {{ delete_rows(relation, condition) }}
{%- endmacro %}

{#- When the dbt run that wrote a row started (UTC), as the `_built_at` of the incremental
    marts: publishing copies only rows written by runs it has not published yet
    (orchestration/publish/delta.py), so a night costs what changed, not all history. -#}
{% macro built_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The pre-hook body of an incremental model that rebuilds itself (its plan said why): the
    table is emptied, and the model then selects every row. -#}
{% macro empty_for_rebuild(reason) -%}
    {{ log(this.identifier ~ ": rebuilt (" ~ reason ~ ")") }}
    {{ delete_rows(this, '1 = 1') }}
{%- endmacro %}

{#- A hash of the rows `query` returns (a small table: a seed, a stage list), prefixed by
    `label`: what an incremental model depends on as a whole, kept in its rebuild_signature. -#}
{% macro rows_signature(query, label) -%}
    {%- set ns = namespace(text=label) -%}
    {%- for row in run_query(query).rows -%}
        {%- set ns.text = ns.text ~ '|' ~ row | join('=') -%}
    {%- endfor -%}
    {{ return(local_md5(ns.text)) }}
{%- endmacro %}

{#- How an incremental model is built this run: `rebuild` with the reason (first build, built
    before it was incremental, empty, or `changed_reason`: the table holds another
    `rebuild_signature` than `signature`), else not, with `held`: the values of the aggregate
    expressions `held` over the table (text, see loaded_watermark_literal). `signature` none:
    the model keeps no signature (only `_built_at` tells it was built incrementally). Called at
    execution time, from the model and its hooks (both see the table before the run). -#}
{% macro signature_plan(signature, changed_reason, held=[]) -%}
    {%- set plan = {'rebuild': true, 'reason': 'first build', 'signature': signature or '',
                    'held': []} -%}
    {%- if not is_incremental() -%}
        {{ return(plan) }}
    {%- endif -%}
    {#- on_schema_change appends the build columns; the pre-hook empties the table first -#}
    {%- set marker = '_built_at' if signature is none else 'rebuild_signature' -%}
    {%- if marker not in column_names(this) -%}
        {%- do plan.update({'reason': 'built before it was incremental'}) -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- set held_signature = "''" if signature is none else 'rebuild_signature' -%}
    {%- set row = run_query("select count(*), min(" ~ held_signature ~ "), max("
                            ~ held_signature ~ ")" ~ (', ' ~ held | join(', ') if held else '')
                            ~ " from " ~ this).rows[0] -%}
    {%- if row[0] == 0 -%}
        {%- do plan.update({'reason': 'empty'}) -%}
    {%- elif row[1] != plan.signature or row[2] != plan.signature -%}
        {%- do plan.update({'reason': changed_reason}) -%}
    {%- else -%}
        {%- do plan.update({'rebuild': false, 'reason': none, 'held': row[3:] | list}) -%}
    {%- endif -%}
    {{ return(plan) }}
{%- endmacro %}

{#- How this run builds an incremental model that follows what its inputs wrote since its own
    newest `_built_at` (int_lead_fit_matches, dim_contacts): signature_plan, plus
    `built_through`, that newest _built_at as text (none on a rebuild). `signature`, when given,
    is a macro hashing what every row depends on (a different one rebuilds, saying `changed`).
    An empty table is rebuilt too (cheap). -#}
{% macro built_through_plan(signature=none, changed=none) -%}
    {#- a unit test has no `this` and no warehouse state: it builds from its given rows -#}
    {%- if not execute or this is none or model.resource_type == 'unit_test' -%}
        {{ return({'rebuild': true, 'reason': 'first build', 'signature': '', 'held': [],
                   'built_through': none}) }}
    {%- endif -%}
    {%- set plan = signature_plan(signature() if signature is not none else none, changed,
                                  ["cast(max(_built_at) as " ~ dbt.type_string() ~ ")"]) -%}
    {%- do plan.update({'built_through': none if plan.rebuild else plan.held[0]}) -%}
    {{ return(plan) }}
{%- endmacro %}

{#- The pre-hook of a model planned by signature_plan: a rebuild empties the table. -#}
{% macro clear_for_rebuild(plan) -%}
    {%- if is_incremental() and plan.rebuild -%}
        {{ empty_for_rebuild(plan.reason) }}
    {%- else -%}
        select 1 as nothing_to_clear
    {%- endif -%}
{%- endmacro %}

{#- Models rebuilt per deal whose inputs changed (int_stage_events, int_deal_changes): each row
    keeps `inputs_hash`, the sum of the fingerprints of its deal's input rows; the pre-hook
    (drop_stale_deals) deletes the deals whose hash moved, and the model builds the deals left
    without rows, each input's scan filtered by rebuilt_deals_only. -#}

{#- Per deal: the sum of the fingerprints of the rows of `parts`, each (deal id expression,
    columns read, relation). `partial`: of the deals the model builds only (rebuilt_deals_only). -#}
{% macro deal_input_fingerprints(parts, partial=false) -%}
    select deal_id, sum(fingerprint) as inputs_hash
    from (
        {%- for deal_id, columns, relation in parts %}
        {{ 'union all' if not loop.first }}
        select {{ deal_id }} as deal_id, {{ row_fingerprint(columns) }} as fingerprint
        from {{ relation }}
        where {{ rebuilt_deals_only(deal_id, partial) }}
        {%- endfor %}
    ) as inputs
    where deal_id is not null
    group by deal_id
{%- endmacro %}

{#- A condition keeping an input's rows of the deals this run builds (the model's CTE `rebuilt`),
    all of them unless `partial`. -#}
{% macro rebuilt_deals_only(deal_id, partial) -%}
    {%- if partial -%}{{ deal_id }} in (select deal_id from rebuilt){%- else -%}1 = 1{%- endif -%}
{%- endmacro %}

{#- Pre-hook of a per-deal model planned by signature_plan: a rebuild empties the table;
    otherwise the rows of deals whose inputs hash is not the one `fingerprints` (deal_id,
    inputs_hash) gives now (changed, or no input left: a deal gone) go. Counted first on Spark
    only (a delete rewrites its parquet table; here the count would hash every input twice). -#}
{% macro drop_stale_deals(plan, fingerprints) -%}
    {%- if is_incremental() and not plan.rebuild -%}
        {%- set stale = "deal_id in (select held.deal_id from " ~ this ~ " as held left join ("
            ~ fingerprints ~ ") as now on held.deal_id = now.deal_id"
            ~ " and held.inputs_hash = now.inputs_hash where now.deal_id is null)" -%}
        {{ delete_rows_if_any(this, stale) if target.type == 'spark' else delete_rows(this, stale) }}
    {%- else -%}
        {{ clear_for_rebuild(plan) }}
    {%- endif -%}
{%- endmacro %}
