{#- pipeline_waterfall's pieces. Periods are calendar months and quarters (their length in
    months), followed from their start to their end or to the end of the as-of day. -#}
{% macro waterfall_period_types() -%}
    {{ return({'month': 1, 'quarter': 3}) }}
{%- endmacro %}

{#- The end (exclusive) of the period of `period_type_col` starting at `start_col` (a date):
    its last day's end, or the as-of day's end for the current period. -#}
{% macro waterfall_window_end(period_type_col, start_col) -%}
    case
        {%- for name, months in waterfall_period_types().items() %}
        when {{ period_type_col }} = '{{ name }}' and
            cast({{ dbt.dateadd('month', months, start_col) }} as {{ dbt.type_timestamp() }})
            < {{ as_of_ts() }}
            then cast({{ dbt.dateadd('month', months, start_col) }} as {{ dbt.type_timestamp() }})
        {%- endfor %}
        else {{ as_of_ts() }}
    end
{%- endmacro %}

{#- The first day of the period of `period_type` holding the date `expr`. -#}
{% macro waterfall_period_start(period_type, expr) -%}
    cast({{ dbt.date_trunc(period_type, expr) }} as date)
{%- endmacro %}

{#- The first day of the period holding the date `expr`, the period type read from the column
    `period_type_col` (one of waterfall_period_types()). -#}
{% macro waterfall_period_start_of(period_type_col, expr) -%}
    case
        {%- for name in waterfall_period_types() %}
        when {{ period_type_col }} = '{{ name }}' then {{ waterfall_period_start(name, expr) }}
        {%- endfor %}
    end
{%- endmacro %}

{#- The end (exclusive) of the day `day` (text, YYYY-MM-DD), a timestamp: as_of_ts() of that
    day. -#}
{% macro waterfall_day_end(day) -%}
    {{ dbt.dateadd('day', 1, "cast('" ~ day ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}

{#- int_deal_waterfall built incrementally: what a night recomputes, and why the rest of its
    rows cannot have changed.

    A row (deal, period, group, pipeline, currency) is computed from that deal's states alone
    (int_deal_states), the owners' teams (int_owners) and the as-of day. So a row can change
    only when one of these does:
    - the deal's states: int_deal_states rewrites every row of a deal it replays (new
      `_built_at`) and drops the deals int_deal_states no longer has; those deals are
      recomputed whole (all periods) and the dropped ones lose their rows;
    - the teams: hashed into `rebuild_signature`, a change rebuilds the table;
    - the as-of day, which ends the current month's and quarter's window and decides which
      periods have started. A period that ended by the last build's as-of day (its end <= the
      end of that day) reads no as-of value: its window is the whole period. A period still
      running then followed the deal to the end of that day; moving the as-of day forward from
      A to B changes its row only through a state that starts in [end of A, end of B) (the
      state alive at the window's end is the same otherwise, and no move falls in between),
      so the deals with such a state are recomputed whole. A period that started after A had
      no rows (nothing before its start counts), so the periods starting in (A, B] are computed
      for every deal. An as-of day earlier than the last build's rebuilds the table (rare: a
      rerun for a past day), as does a table with no as-of row.
    The as-of day of the last build is kept in one row of its own (period_type 'as_of', no
    deal, the day in period_start), written by every build: rows of deals are not written
    every night, so none of them can say which day the table was last built for. -#}
{% macro deal_waterfall_plan() -%}
    {%- set plan = {'rebuild': true, 'reason': 'first build', 'signature': '', 'held': [],
                    'as_of': as_of_date() | trim, 'new_periods_from': none} -%}
    {#- a unit test has no `this` and no warehouse state: it builds from its given rows -#}
    {%- if not execute or this is none or model.resource_type == 'unit_test' -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- set text = dbt.type_string() -%}
    {%- do plan.update(signature_plan(rows_signature(
        "select owner_id, team from " ~ ref('int_owners') ~ " order by 1, 2", 'waterfall_teams'),
        'an owner changed team in int_owners',
        ["cast(max(_built_at) as " ~ text ~ ")",
         "max(case when period_type = 'as_of' then cast(period_start as " ~ text ~ ") end)"])) -%}
    {%- if plan.rebuild -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- set built_through, held_as_of = plan.held -%}
    {%- if held_as_of is none or plan.as_of < held_as_of -%}
        {%- do plan.update({'rebuild': true, 'reason': 'no as-of day recorded'
                            if held_as_of is none else 'the as-of day moved back'}) -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- set held_day = modules.datetime.date.fromisoformat(held_as_of) -%}
    {%- set next_month = (held_day.replace(day=1) + modules.datetime.timedelta(days=32))
                         .replace(day=1).isoformat() -%}
    {%- do plan.update({'built_through': built_through, 'held_as_of': held_as_of,
                        'new_periods_from': next_month if next_month <= plan.as_of else none}) -%}
    {{ return(plan) }}
{%- endmacro %}

{#- The deals an incremental build recomputes whole (see deal_waterfall_plan): replayed by
    int_deal_states since the last build, or with a state starting between the last build's
    as-of day's end and this one's. -#}
{% macro deal_waterfall_recomputed_deals(plan) -%}
    select distinct deal_id
    from {{ ref('int_deal_states') }}
    where _built_at > cast('{{ plan.built_through }}' as {{ dbt.type_timestamp() }})
    {%- if plan.as_of > plan.held_as_of %}
        or (valid_from >= {{ waterfall_day_end(plan.held_as_of) }}
            and valid_from < {{ waterfall_day_end(plan.as_of) }})
    {%- endif %}
{%- endmacro %}

{#- Pre-hook of an incremental build: the rows it writes again go first (the recomputed deals',
    the as-of row, any of the new periods), and so do the rows of deals int_deal_states no
    longer has. -#}
{% macro clear_recomputed_deal_waterfall(plan) -%}
    {%- if is_incremental() and not plan.rebuild -%}
        {%- set condition -%}
            period_type = 'as_of'
            or deal_id in ({{ deal_waterfall_recomputed_deals(plan) }})
            or deal_id not in (select deal_id from {{ ref('int_deal_states') }})
            {%- if plan.new_periods_from %}
            or period_start >= cast('{{ plan.new_periods_from }}' as date)
            {%- endif %}
        {%- endset -%}
        {{ delete_rows(this, condition) }}
    {%- else -%}
        select 1 as nothing_to_clear
    {%- endif -%}
{%- endmacro %}

{#- The row holding the as-of day the table is built for (see deal_waterfall_plan). -#}
{% macro deal_waterfall_as_of_row(plan) -%}
    {%- set text = dbt.type_string() -%}
    {%- set amount = type_exact_decimal() -%}
    select 'as_of', cast('{{ plan.as_of }}' as date),
        {%- for c in range(5) %} cast(null as {{ text }}),{% endfor %}
        {%- for c in range(11) %} cast(null as {{ amount }}),{% endfor %}
        '{{ plan.signature }}', {{ built_at() }}
{%- endmacro %}
