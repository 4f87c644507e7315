{#- pipeline_daily's running sums: a figure that is open over a span of days (a stay, a close in
    its trailing window) adds to the day it starts and is taken off the day it ends, and each
    day's value is the running sum of these changes. Both read the model's CTEs `grid` (every
    group and day) and `grid_start` (each group's first grid day). -#}

{#- The changes per group and day of `rows`' `measures`: + on `start_day`, - on `end_day` (never
    when it is null), days before the group's first grid day moved onto it. -#}
{% macro daily_changes(rows, start_day, end_day, measures) -%}
    select
        c.pipeline_id,
        c.currency,
        greatest(c.day, gs.first_day) as day,
        {%- for m in measures %}
        sum(c.{{ m }}) as {{ m }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select pipeline_id, currency, {{ start_day }} as day, {{ measures | join(', ') }}
        from {{ rows }}
        union all
        select pipeline_id, currency, {{ end_day }}, -{{ measures | join(', -') }}
        from {{ rows }}
        where {{ end_day }} is not null
    ) as c
    inner join grid_start as gs on c.pipeline_id = gs.pipeline_id and c.currency = gs.currency
    group by c.pipeline_id, c.currency, greatest(c.day, gs.first_day)
{%- endmacro %}

{#- Every group and day of the grid with the running sum of each of `measures` of `changes`
    (daily_changes) up to that day. -#}
{% macro grid_running_sums(changes, measures) -%}
    select
        g.pipeline_id,
        g.currency,
        g.day,
        {%- for m in measures %}
        sum(c.{{ m }}) over (
            partition by g.pipeline_id, g.currency order by g.day
            rows between unbounded preceding and current row
        ) as {{ m }}{{ ',' if not loop.last }}
        {%- endfor %}
    from grid as g
    left join {{ changes }} as c
        on g.pipeline_id = c.pipeline_id and g.currency = c.currency and g.day = c.day
{%- endmacro %}
