-- One row per contact (every dim_contacts row): what its lead score is made of that does not
-- depend on the as-of date (macros/lead_scoring.sql), so lead_scores is a projection of one
-- row per contact instead of a ranking of every fit match and engagement row each night.
-- Incremental: a night recomputes the contacts its inputs wrote since (macro
-- lead_score_changed_contacts); the others keep their rows, and the post-hook drops the
-- contacts dim_contacts no longer has. Engagement points are kept undecayed, relative to the
-- engagement sums' epoch, which is the same for every row until the sums are rebuilt (then
-- every holder is rewritten, so every contact is recomputed here). A change of the fit rules,
-- points, half-life or lead_score_top_reasons rebuilds every contact (rebuild_signature).
{{ incremental_mart_config('contact_id', on_schema_change='append_new_columns',
    pre_hook="{{ clear_for_rebuild(lead_score_parts_plan()) }}",
    post_hook="{{ delete_rows_if_any(this, 'contact_id not in (select contact_id from '
              ~ ref('dim_contacts') ~ ' where contact_id is not null)', count=is_incremental()) }}") }}
-- depends_on: {{ ref('int_activity_summary') }}
{%- set plan = lead_score_parts_plan() %}
{%- set top = var('lead_score_top_reasons') | int %}
{%- set slots = engagement_slot_count() %}

with
{%- if not plan.rebuild %}
changed as (
    {{ lead_score_changed_contacts(plan) }}
),
{%- endif %}

contacts as (
    select contact_id, source_system, email, company, owner_id
    from {{ ref('dim_contacts') }}
    {%- if not plan.rebuild %}
    where contact_id in (select contact_id from changed)
    {%- endif %}
),

-- the fit rules, each worded once and ranked among all of them: by weight, then before or
-- after every "engagement: ..." reason of the same weight, then by their words, as lead_scores
-- has always ranked reasons. A contact fires each rule at most once, so its reasons' order is
-- the order of their ranks: the per-contact ranking below sorts small integers, not the words
-- of ~3.5 reasons per contact (at 10M matches the words were most of its cost). Worded from the
-- seed as the matches hold it (macro lead_fit_rules; rule_id is unique, a test of the seed),
-- not from the distinct rules of every match (10M rows at L, ~2 s a night): a rule that fires
-- for nobody gets a rank too, which orders nothing, since a rule's place comes from its own
-- weight and words (unique: they hold its id).
fit_rules as (
    select
        rule_id,
        points,
        abs(points) as weight,
        case when reason < 'engagement: ' then 0 else 2 end as tie_group,
        reason,
        row_number() over (
            order by abs(points) desc, case when reason < 'engagement: ' then 0 else 2 end, reason
        ) as rule_rank
    from (
        select
            rule_id,
            points,
            rule_id || ': ' || attribute || ' ' || match_type
                || coalesce(' ' || match_value, '') || ' (' || {{ signed_points('points') }}
                || ')' as reason
        from ({{ lead_fit_rules(ref('lead_score_fit_rules')) }}) as rules
    ) as worded
),

-- no join with contacts: the last select keeps only theirs (on a night, matches of the
-- contacts it recomputes)
fit as (
    select
        contact_id,
        sum(points) as fit_points,
        count(*) as fit_rules_fired
        {%- for n in range(1, top + 1) %},
        max(case when reason_rank = {{ n }} then rule_rank end) as fit_rule_rank_{{ n }}
        {%- endfor %}
    from (
        select
            f.contact_id,
            f.points,
            r.rule_rank,
            row_number() over (partition by f.contact_id order by r.rule_rank) as reason_rank
        from {{ ref('int_lead_fit_matches') }} as f
        inner join fit_rules as r on f.rule_id = r.rule_id and f.points = r.points
        {%- if not plan.rebuild %}
        where f.contact_id in (select contact_id from contacts)
        {%- endif %}
    ) as ranked
    group by contact_id
),

type_points as (
    select activity_type, cast(points as {{ type_double() }}) as points
    from {{ ref('lead_score_engagement_points') }}
    where points <> 0
),

-- a deal-log activity counts for the deal's primary contact now. Two branches, each a semi-join
-- on the few contacts a night recomputes (one condition with `or` scans every row against both)
held as (
    select
        s.holder_id as contact_id, s.activity_type, s.activity_count, s.newest_day, s.weight,
        s.epoch_day
    from {{ ref('int_lead_engagement_sums') }} as s
    where
        not s.via_deal
        {%- if not plan.rebuild %}
        and s.holder_id in (select contact_id from contacts)
        {%- endif %}
    union all
    select
        d.primary_contact_id, s.activity_type, s.activity_count, s.newest_day, s.weight,
        s.epoch_day
    from {{ ref('int_lead_engagement_sums') }} as s
    inner join (
        select deal_id, primary_contact_id from {{ ref('int_deals') }}
        {%- if not plan.rebuild %}
        where primary_contact_id in (select contact_id from contacts)
        {%- endif %}
    ) as d on s.holder_id = d.deal_id
    where s.via_deal
),

engaged as (
    select
        h.contact_id,
        h.activity_type,
        sum(h.activity_count) as activity_count,
        sum(p.points * h.weight) as points,
        max(h.newest_day) as newest_day,
        max(h.epoch_day) as epoch_day,
        -- in the order of their words ("engagement: 12 x call" before "engagement: 3 x call"),
        -- which lists reasons of equal points: lead_scores compares only numbers then
        row_number() over (
            partition by h.contact_id
            order by cast(sum(h.activity_count) as {{ dbt.type_string() }}), h.activity_type
        ) as slot
    from held as h
    inner join type_points as p on h.activity_type = p.activity_type
    group by h.contact_id, h.activity_type
),

engagement as (
    select
        contact_id,
        max(epoch_day) as epoch_day
        {%- for k in range(1, slots + 1) %},
        max(case when slot = {{ k }} then activity_type end) as engagement_type_{{ k }},
        max(case when slot = {{ k }} then activity_count end) as engagement_count_{{ k }},
        max(case when slot = {{ k }} then points end) as engagement_points_{{ k }},
        max(case when slot = {{ k }} then newest_day end) as engagement_newest_day_{{ k }}
        {%- endfor %}
    from engaged
    group by contact_id
)

select
    c.contact_id,
    c.source_system,
    c.email,
    c.company,
    c.owner_id,
    coalesce(f.fit_points, 0) as fit_points,
    coalesce(f.fit_rules_fired, 0) as fit_rules_fired,
    {%- for n in range(1, top + 1) %}
    r{{ n }}.weight as fit_weight_{{ n }},
    r{{ n }}.tie_group as fit_tie_group_{{ n }},
    r{{ n }}.reason as fit_reason_{{ n }},
    {%- endfor %}
    e.epoch_day,
    {%- for k in range(1, slots + 1) %}
    e.engagement_type_{{ k }},
    e.engagement_count_{{ k }},
    e.engagement_points_{{ k }},
    e.engagement_newest_day_{{ k }},
    {%- endfor %}
    '{{ plan.signature }}' as rebuild_signature,
    {{ built_at() }} as _built_at
from contacts as c
left join fit as f on c.contact_id = f.contact_id
left join engagement as e on c.contact_id = e.contact_id
{%- for n in range(1, top + 1) %}
left join fit_rules as r{{ n }} on f.fit_rule_rank_{{ n }} = r{{ n }}.rule_rank
{%- endfor %}
