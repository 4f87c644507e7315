{#- The contact chain built incrementally (int_contacts, int_lead_fit_matches): a night
    recomputes the contacts whose records changed, not all of them.

    int_contacts: a contact is recomputed when a raw record it is built from landed after the
    newest landing time the table was built with (`loaded_through`, kept in every row): its
    row in the contact table, for ActiveCampaign also a custom field value. A deletion the API
    reports (Pipedrive, Salesforce) lands as a record too, so the contact is recomputed and
    gives no row; the post-hook drops the rows of ids no staging table has any more. A contact
    file landed again in place (the loader replaces the rows of the file it landed before) can
    leave older files' versions winning, landed before the watermark: the contacts of that
    raw table are all recomputed. What every contact may depend on (HubSpot's owner names to
    ids, ActiveCampaign's field titles) is hashed into `rebuild_signature`; a different one
    rebuilds the table (the pre-hook empties it). -#}

{#- The one shape of a contact (int_contacts, dim_contacts): name and type of each column. -#}
{% macro contact_shape() -%}
    {%- set text = dbt.type_string() -%}
    {{ return([
        ('contact_id', text), ('source_system', text), ('source_contact_id', text),
        ('email', text), ('first_name', text), ('last_name', text), ('company', text),
        ('title', text), ('industry', text), ('company_size', dbt.type_bigint()),
        ('company_size_band', text), ('country', text), ('lead_source', text),
        ('lifecycle_stage', text), ('owner_id', text), ('created_at', dbt.type_timestamp()),
        ('budget_range', text), ('decision_maker', text), ('need_identified', text),
        ('purchase_timeline', text),
    ]) }}
{%- endmacro %}

{#- The raw tables contacts are built from, each with its id column (the source id the
    staging table keeps as source_contact_id / source_lead_id). -#}
{% macro contact_raw_tables() -%}
    {{ return({
        'hubspot_contacts': 'record_id',
        'activecampaign_contacts': 'id',
        'activecampaign_contact_field_values': 'contact',
        'generic_contacts': 'contact_id',
        'pipedrive_persons': 'id',
        'salesforce_contacts': 'id',
        'salesforce_leads': 'id',
    }) }}
{%- endmacro %}

{#- What every contact depends on besides its own records: the HubSpot owner each lower-cased
    owner name means, and the ActiveCampaign field titles. Small tables, hashed here. -#}
{% macro contacts_signature() -%}
    {%- set owners = run_query("select owner_name_key, owner_id from " ~ ref('int_owners')
                               ~ " where source_system = 'hubspot' order by 1, 2").rows -%}
    {%- set fields = run_query("select source_field_id, field_title from "
                               ~ ref('stg_activecampaign__fields') ~ " order by 1, 2").rows -%}
    {%- set ns = namespace(text='v1') -%}
    {%- for row in owners -%}{%- set ns.text = ns.text ~ '|o:' ~ row[0] ~ '=' ~ row[1] -%}{%- endfor -%}
    {%- for row in fields -%}{%- set ns.text = ns.text ~ '|f:' ~ row[0] ~ '=' ~ row[1] -%}{%- endfor -%}
    {{ return(local_md5(ns.text)) }}
{%- endmacro %}

{#- How this run builds int_contacts: `rebuild` (with the reason), or the watermark
    `loaded_through` and the raw tables to take whole (`whole`: a file of theirs landed again
    since). `newest`: the newest landing time in the raw contact tables now (the new rows'
    loaded_through). Called by the model and its pre-hook; both see the table before the run.
    Times as text from the engine (see loaded_watermark_literal). -#}
{% macro contacts_plan() -%}
    {%- set plan = {'rebuild': true, 'reason': 'first build', 'signature': '', 'newest': none,
                    'loaded_through': none, 'whole': []} -%}
    {#- a unit test has no `this` and no warehouse state: it builds from its given rows -#}
    {%- if not execute or this is none or model.resource_type == 'unit_test' -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- set text = dbt.type_string() -%}
    {%- set newest = [] -%}
    {%- for table in contact_raw_tables() -%}
        {%- do newest.append("select max(_loaded_at) as loaded_at from " ~ source('raw', table)) -%}
    {%- endfor -%}
    {%- do plan.update({'signature': contacts_signature(), 'newest': run_query(
        "select cast(max(loaded_at) as " ~ text ~ ") from (" ~ newest | join(' union all ')
        ~ ") as n").columns[0].values()[0]}) -%}
    {%- if not is_incremental() -%}
        {{ return(plan) }}
    {%- endif -%}
    {#- a table built before the model was incremental lacks the build columns: on_schema_change
        appends them, and the pre-hook empties it first -#}
    {%- if 'rebuild_signature' not in column_names(this) -%}
        {%- do plan.update({'reason': 'built before it was incremental'}) -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- set held = run_query("select count(*), min(rebuild_signature), max(rebuild_signature), "
        ~ "cast(max(loaded_through) as " ~ text ~ ") from " ~ this).rows[0] -%}
    {%- if held[0] == 0 or held[3] is none -%}
        {%- do plan.update({'reason': 'empty'}) -%}
    {%- elif held[1] != plan.signature or held[2] != plan.signature -%}
        {%- do plan.update({'reason': 'HubSpot owners or ActiveCampaign fields changed'}) -%}
    {%- else -%}
        {%- do plan.update({'rebuild': false, 'reason': none, 'loaded_through': held[3],
                            'whole': relanded_contact_tables(held[3])}) -%}
    {%- endif -%}
    {{ return(plan) }}
{%- endmacro %}

{#- The raw contact tables with a file landed again at its path after `since`: its earlier
    load's rows are gone (raw._loads keeps both loads). -#}
{% macro relanded_contact_tables(since) -%}
    {%- set loads = source('raw', '_loads') -%}
    {%- set rows = run_query(
        "select distinct n.raw_table from " ~ loads ~ " as n inner join " ~ loads ~ " as o"
        ~ " on n.raw_table = o.raw_table and n.source_file = o.source_file"
        ~ " and o.loaded_at < n.loaded_at"
        ~ " where n.loaded_at > cast('" ~ since ~ "' as " ~ dbt.type_timestamp() ~ ")"
        ~ " and n.raw_table in ('" ~ contact_raw_tables() | join("', '") ~ "')").rows -%}
    {{ return(rows | map(attribute=0) | list) }}
{%- endmacro %}

{#- A where-clause condition: `id_expr` is among the ids of raw `tables` (names from
    contact_raw_tables) with a record landed after the plan's watermark; always true on a
    rebuild or when one of the tables is taken whole. -#}
{% macro contact_changed(plan, id_expr, tables) -%}
    {%- if plan.rebuild or (tables | select('in', plan.whole) | list) -%}
        1 = 1
    {%- else -%}
        {%- set ids = contact_raw_tables() -%}
        {{ id_expr }} in (
            {%- for table in tables %}
            {{ 'union all' if not loop.first }}
            select {{ ids[table] }} from {{ source('raw', table) }}
            where _loaded_at > cast('{{ plan.loaded_through }}' as {{ dbt.type_timestamp() }})
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: after an incremental run, the rows of contacts no staging table has any more
    (deleted in the CRM, a converted Salesforce lead, a record missing from a file landed again)
    go. The ids as int_contacts derives them, part by part. -#}
{% macro drop_vanished_contacts() -%}
    {%- set current -%}
        select {{ source_id('source_contact_id', 'hubspot') }} as contact_id
        from {{ ref('stg_hubspot__contacts') }}
        union all
        select {{ source_id('source_contact_id', 'activecampaign') }}
        from {{ ref('stg_activecampaign__contacts') }}
        union all
        select {{ source_id('source_contact_id', source_column='source_system') }}
        from {{ ref('stg_generic__contacts') }}
        union all
        select {{ source_id('source_contact_id', 'pipedrive') }} from {{ ref('stg_pipedrive__persons') }}
        union all
        select {{ source_id('source_contact_id', 'salesforce') }}
        from {{ ref('stg_salesforce__contacts') }}
        union all
        select {{ source_id('source_lead_id', 'salesforce') }} from {{ ref('stg_salesforce__leads') }}
        where not coalesce(is_converted, false)
    {%- endset -%}
    {#- the null ids left out: one would make `not in` keep nothing out -#}
    {{ delete_rows_if_any(this, "contact_id not in (select contact_id from (" ~ current
                                ~ ") as k where contact_id is not null)",
                          count=is_incremental()) }}
{%- endmacro %}

{#- int_lead_fit_matches: what it depends on besides int_contacts, the fit rules as loaded
    (the seed table's rows, hashed: an edited table counts, not only an edited file). -#}
{% macro fit_matches_signature() -%}
    {%- set text = dbt.type_string() -%}
    {{ return(rows_signature("select cast(rule_id as " ~ text ~ "), cast(attribute as " ~ text
        ~ "), cast(match_type as " ~ text ~ "), cast(match_value as " ~ text ~ "), cast(points as "
        ~ text ~ ") from " ~ ref('lead_score_fit_rules') ~ " order by 1, 2, 3, 4, 5", 'fit_rules')) }}
{%- endmacro %}

{#- How this run builds int_lead_fit_matches: `rebuild`, or `built_through`, the newest
    _built_at it holds: the contacts int_contacts wrote after it are recomputed. A table that
    holds no rows is rebuilt (no rule fired for anyone: cheap). -#}
{% macro fit_matches_plan() -%}
    {{ return(built_through_plan(fit_matches_signature, 'the fit rules seed changed')) }}
{%- endmacro %}

{#- A condition on int_contacts rows: written after the fit matches' last build. -#}
{% macro fit_contacts_changed(plan) -%}
    _built_at > cast('{{ plan.built_through }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- Pre-hook: a rebuild empties the table; an incremental run deletes the rows of the contacts
    it recomputes (one may now fire no rule at all, so delete+insert alone would keep its old
    rows) and of the contacts int_contacts no longer has. -#}
{% macro clear_fit_matches_of_changed_contacts() -%}
    {%- if not is_incremental() -%}
        select 1 as nothing_to_clear
    {%- elif fit_matches_plan().rebuild -%}
        {{ empty_for_rebuild(fit_matches_plan().reason) }}
    {%- else -%}
        {#- kept: the rows of contacts int_contacts holds and did not rewrite (one anti-join). Not
            counted first (delete_rows_if_any): most nights rewrite some contacts -#}
        {{ delete_rows(this,
            "contact_id not in (select contact_id from " ~ ref('int_contacts') ~ " where not ("
            ~ fit_contacts_changed(fit_matches_plan()) ~ ") and contact_id is not null)") }}
    {%- endif -%}
{%- endmacro %}
