-- One row per contact: customer-fit score (sum of the fit rules that fire), engagement score
-- (decayed activity points, capped), their total, grade, sales-readiness and the reasons that
-- weigh most. Scores are rounded to one decimal; grade and readiness use the rounded total.
-- A projection of int_lead_score_parts (one row per contact, kept incrementally): what depends
-- on the as-of date is applied here, row by row: the decay of the undecayed engagement points,
-- the cap, the grade, and the merge of the contact's top fit reasons with its activity types.
-- depends_on: {{ ref('lead_score_engagement_points') }}
{%- set top = var('lead_score_top_reasons') | int %}
{%- set slots = engagement_slot_count() %}
{%- set candidates = lead_score_candidates(top, slots) %}

with decayed as (
    select
        *
        {%- for k in range(1, slots + 1) %},
        {{ engagement_decayed('engagement_points_' ~ k, 'epoch_day') }} as engagement_decayed_{{ k }}
        {%- endfor %}
    from {{ ref('int_lead_score_parts') }}
),

-- equal points must tie (then the words decide), not differ in the last bit; the total to 9
-- decimals before the cap and the display's one (macro score_round says why)
weighed as (
    select
        *,
        {%- for k in range(1, slots + 1) %}
        abs(round(engagement_decayed_{{ k }}, 9)) as engagement_weight_{{ k }},
        {%- endfor %}
        round(0
        {%- for k in range(1, slots + 1) %} + coalesce(engagement_decayed_{{ k }}, 0){% endfor %},
            9) as engagement_points
    from decayed
),

placed as (
    select
        *,
        {%- for c in candidates %}
        {{ reason_place(c, candidates) }} as place_{{ 'fit' if c.fit else 'engagement' }}_{{ c.slot }},
        {%- endfor %}
        {{ score_round('fit_points') }} as fit_score,
        round(case
            when engagement_points > {{ var('lead_score_engagement_cap') }}
                then {{ var('lead_score_engagement_cap') }}
            else engagement_points
        end, 1) as engagement_score
    from weighed
),

-- the reason listed at each place up to N (null where the contact has fewer)
listed as (
    select
        *,
        {%- for n in range(1, top + 1) %}
        case
            {%- for c in candidates %}
            {%- if c.fit %}
            when fit_weight_{{ c.slot }} is not null and place_fit_{{ c.slot }} = {{ n }}
                then fit_reason_{{ c.slot }}
            {%- else %}
            when engagement_weight_{{ c.slot }} is not null and place_engagement_{{ c.slot }} = {{ n }}
                then 'engagement: ' || cast(engagement_count_{{ c.slot }} as {{ dbt.type_string() }}) || ' x '
                    || engagement_type_{{ c.slot }}
                    || ' (' || {{ signed_points('engagement_decayed_' ~ c.slot) }} || ')'
            {%- endif %}
            {%- endfor %}
        end as reason_{{ n }},
        {%- endfor %}
        fit_score + engagement_score as total_score
    from placed
),

-- each grade as a band [min_score, next grade's min_score); the lowest band also takes totals
-- below every min_score. A join on the bands, not a ranking of every grade for every contact.
grade_bands as (
    select
        grade,
        min_score,
        lead(min_score) over (order by min_score) as next_min_score,
        row_number() over (order by min_score) = 1 as is_lowest
    from {{ ref('lead_score_grades') }}
)

select
    t.contact_id,
    t.source_system,
    t.email,
    t.company,
    t.owner_id,
    t.fit_score,
    t.engagement_score,
    t.total_score,
    g.grade,
    t.total_score >= {{ var('lead_score_sales_ready_threshold') }} as is_sales_ready,
    t.fit_rules_fired,
    {% if top < 1 -%} cast(null as {{ dbt.type_string() }})
    {%- else -%}
    {%- for n in range(1, top + 1) -%}
    {% if n > 1 %} || coalesce('; ' || {% endif -%} t.reason_{{ n }} {%- if n > 1 %}, ''){% endif %}
    {%- endfor %}
    {%- endif %} as top_reasons,
    cast('{{ as_of_date() }}' as date) as scored_as_of
from listed as t
left join grade_bands as g
    on (t.total_score >= g.min_score or g.is_lowest)
    and (t.total_score < g.next_min_score or g.next_min_score is null)
