{#- Engagement by factorisation (models/intermediate/scoring/int_lead_engagement_sums.sql).

    An activity on day d is worth points x 2^-((as_of - d)/h) on the as-of day, h the half-life
    in days. For any fixed epoch e that is points x 2^((d - e)/h) x 2^-((as_of - e)/h): the first
    two factors do not depend on the as-of date. So the sums table keeps, per holder (a contact,
    or a deal for the deal-log activities whose contact is the deal's) and activity type,
    weight = sum of 2^((d - e)/h), updated with the holders whose activities are new, changed or
    became countable (dated after the last run's as-of day); int_lead_engagement reads
    points x weight x 2^-((as_of - e)/h). The points are applied when read, so a change of the
    points seed needs nothing rebuilt.

    The epoch is the as-of date of the run that (re)built the table, so every weight is at most
    1 then (older activities have negative exponents: an activity 1,000 half-lives old rounds
    to 0, as 0.5^(age/h) does). Later nights' activities get positive exponents; the table is
    rebuilt, with a new epoch, before they could leave a double's range (2^1023): once the
    as-of date is more than 500 half-lives past the epoch. -#}

{% macro engagement_epoch_limit() -%}
    {{ return(500) }}
{%- endmacro %}

{#- What the sums depend on besides the activities: the half-life and the activity_types seed
    (it types the activities; its file's checksum, as dbt read it). A hash of both is kept in
    every row; a different one rebuilds. -#}
{% macro engagement_sums_signature() -%}
    {%- set ns = namespace(text='half_life=' ~ var('lead_score_half_life_days')) -%}
    {#- a unit test's graph has no nodes: its signature is never compared -#}
    {%- for node in (graph.get('nodes') or {}).values() -%}
        {%- if node.resource_type == 'seed' and node.name == 'activity_types' -%}
            {%- set ns.text = ns.text ~ '|activity_types=' ~ node.checksum.checksum -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(local_md5(ns.text)) }}
{%- endmacro %}

{#- How this run updates the sums table: `rebuild` (with the reason) or the holders to update,
    found from the newest loaded_at, as-of day and _built_at the table holds. Called by the
    model and by its pre-hook (which empties the table for a rebuild): both see the table
    before the run. -#}
{% macro engagement_sums_plan() -%}
    {%- set as_of = modules.datetime.date.fromisoformat(as_of_date() | trim) -%}
    {%- set plan = {'rebuild': true, 'reason': 'first build', 'epoch': as_of,
                    'signature': '', 'loaded_through': none,
                    'built_through': none, 'covered_through': none} -%}
    {%- if not execute -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- do plan.update({'signature': engagement_sums_signature()}) -%}
    {#- a unit test has no `this`: it builds from its given rows -#}
    {%- if this is none or not is_incremental() -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- if '_built_at' not in column_names(this) -%}
        {%- do plan.update({'reason': 'built before its rows kept _built_at'}) -%}
        {{ return(plan) }}
    {%- endif -%}
    {#- dates and times as text from the engine: fetched into Python, a timestamp would be
        shifted into the client's time zone on Spark (see loaded_watermark_literal) -#}
    {%- set text = dbt.type_string() -%}
    {%- set held = run_query("select count(*), min(rebuild_signature), max(rebuild_signature), "
        ~ "cast(min(epoch_day) as " ~ text ~ "), cast(max(epoch_day) as " ~ text ~ "), "
        ~ "cast(max(covered_through) as " ~ text ~ "), "
        ~ "cast(max(newest_loaded_at) as " ~ text ~ "), "
        ~ "cast(max(_built_at) as " ~ text ~ ") from " ~ this).rows[0] -%}
    {%- set day = modules.datetime.date.fromisoformat -%}
    {%- set half_life = var('lead_score_half_life_days') | float -%}
    {%- if held[0] == 0 -%}
        {%- do plan.update({'reason': 'empty'}) -%}
    {%- elif held[1] != plan.signature or held[2] != plan.signature -%}
        {%- do plan.update({'reason': 'the half-life or the activity_types seed changed'}) -%}
    {%- elif held[3] != held[4] or held[5] is none or held[6] is none -%}
        {%- do plan.update({'reason': 'rows of different epochs'}) -%}
    {%- elif as_of < day(held[5]) -%}
        {%- do plan.update({'reason': 'as-of date earlier than the last run'}) -%}
    {%- elif (as_of - day(held[3])).days / half_life > engagement_epoch_limit() -%}
        {%- do plan.update({'reason': 'epoch too far behind the as-of date'}) -%}
    {%- else -%}
        {%- do plan.update({'rebuild': false, 'reason': none, 'epoch': held[3],
                            'covered_through': held[5], 'loaded_through': held[6],
                            'built_through': held[7]}) -%}
    {%- endif -%}
    {{ return(plan) }}
{%- endmacro %}

{#- Post-hook: a holder whose activities all moved to other holders (re-exported for another
    contact or deal) has no row in this run's batch, so delete+insert would leave its old rows:
    they are deleted here (on a first build or a rebuild there are none to find). The summary's
    rows without a holder (a deal's activities without contact) are left out of the list: one
    null in it would make `not in` false for every row, and nothing would be deleted. -#}
{% macro drop_engagement_holders_without_activities() -%}
    {{ delete_rows_if_any(this,
        "holder_key not in (select holder_key from " ~ ref('int_activity_summary')
        ~ " where activities_before_as_of > 0 and holder_key is not null)",
        count=is_incremental()) }}
{%- endmacro %}

{#- The holder of an activity: its deal for ActiveCampaign's deal-log activities (their contact
    is the deal's primary contact), else its contact; null without one. -#}
{% macro engagement_holder_key(alias) -%}
    case when {{ alias }}.contact_from_deal then 'deal:' || {{ alias }}.deal_id
        else 'contact:' || {{ alias }}.contact_id end
{%- endmacro %}
