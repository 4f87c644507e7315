-- lead_scores as it was before int_lead_score_parts (commit 7238f69), compiled for DuckDB with
-- the default vars (lead_score_top_reasons 3, cap 50, sales-ready at 60): the reference the
-- projection must equal row for row (tests/test_lead_scoring.py on the samples,
-- `python -m benchmarks.lead_scores_checks WAREHOUSE` on a benchmark's warehouse). Kept as plain
-- SQL, not a model: never built, only run beside the model by those checks. It ranks every fit
-- match and engagement row with one window: the engagement rows of lead_engagement_reference, a
-- temporary table benchmarks/lead_scores_checks.py makes from int_lead_engagement's old SQL
-- (benchmarks/lead_engagement_reference.sql), independent of int_lead_score_parts. {as_of} is
-- the run's as-of date (YYYY-MM-DD); tables are read from the default catalog.
-- One row per contact: customer-fit score (sum of the fit rules that fire), engagement score
-- (decayed activity points, capped), their total, grade, sales-readiness and the reasons that
-- weigh most. Scores are rounded to one decimal; grade and readiness use the rounded total.
-- The two intermediate tables are read where they are used, not through a CTE each: a CTE used
-- more than once is materialized (DuckDB copies its 10M + 6M rows first; 3 s at 3M contacts).
with contacts as (
    select contact_id, source_system, email, company, owner_id
    from "marts"."dim_contacts"
),

fit as (
    select contact_id, sum(points) as fit_points, count(*) as fit_rules_fired
    from "intermediate"."int_lead_fit_matches"
    group by contact_id
),

engaged as (
    -- to 9 decimals before the cap and the display's one (macro score_round says why)
    select contact_id, round(sum(points), 9) as engagement_points
    from lead_engagement_reference
    group by contact_id
),

-- a fit reason depends only on its rule, so it is written once per rule, not per contact; so is
-- its place among reasons of the same weight (rule_order, and before or after every
-- "engagement: ..." reason), which lets the ranking below sort numbers instead of strings
rule_reasons as (
    select
        rule_id,
        reason,
        case when reason < 'engagement: ' then 0 else 2 end as tie_group,
        row_number() over (order by abs(points) desc, reason) as rule_order
    from (
        select
            rule_id,
            points,
            rule_id || ': ' || attribute || ' ' || match_type
                || coalesce(' ' || match_value, '') || ' (' || case when points >= 0 then '+' else '' end
        || cast(round(round(points, 9), 1) as TEXT) || ')'
                as reason
        from (
            select distinct rule_id, attribute, match_type, match_value, points
            from "intermediate"."int_lead_fit_matches"
        ) as rules
    ) as worded
),

-- every contribution, with what its reason is worded from
candidates as (
    select
        f.contact_id,
        abs(f.points) as weight,
        r.tie_group,
        r.rule_order,
        cast(null as TEXT) as count_text,
        cast(null as TEXT) as activity_type,
        cast(null as double precision) as points
    from "intermediate"."int_lead_fit_matches" as f
    inner join rule_reasons as r on f.rule_id = r.rule_id
    union all
    select
        contact_id,
        -- equal points must tie (then the words decide), not differ in the last bit
        abs(round(points, 9)),
        1,
        null,
        cast(activity_count as TEXT),
        activity_type,
        points
    from lead_engagement_reference
),

-- largest absolute points first; ties in the order of the worded reasons ("bant_need: ...",
-- "engagement: 12 x call ...", "engagement: 3 x call ..."), without building the words of
-- every contribution. Ranked with a window before cutting to the top N: an ordered list of
-- all of a contact's reasons holds every reason of every contact in memory at once (it ran
-- out of a 2 GB memory limit at 3M contacts), and so does a top-N aggregate (min(x, n) spilled
-- 18 GB); a window sorts and spills to disk instead
ranked_reasons as (
    select
        *,
        row_number() over (
            partition by contact_id
            order by weight desc, tie_group, rule_order, count_text, activity_type
        ) as reason_rank
    from candidates
),

top_ranked as (
    select
        k.contact_id,
        k.reason_rank,
        coalesce(r.reason, 'engagement: ' || k.count_text || ' x ' || k.activity_type
            || ' (' || case when k.points >= 0 then '+' else '' end
        || cast(round(round(k.points, 9), 1) as TEXT) || ')') as reason
    from ranked_reasons as k
    left join rule_reasons as r on k.rule_order = r.rule_order
    where k.reason_rank <= 3
),

-- one max() per rank instead of an ordered string aggregate, which sorts inside every group
top_reasons as (
    select
        contact_id,
        
        max(case when reason_rank = 1 then reason end)
        || coalesce('; ' || max(case when reason_rank = 2 then reason end), '')
        || coalesce('; ' || max(case when reason_rank = 3 then reason end), '')
        as top_reasons
    from top_ranked
    group by contact_id
),

scored as (
    select
        c.contact_id,
        c.source_system,
        c.email,
        c.company,
        c.owner_id,
        round(round(coalesce(f.fit_points, 0), 9), 1) as fit_score,
        round(case
            when e.engagement_points > 50
                then 50
            else coalesce(e.engagement_points, 0)
        end, 1) as engagement_score,
        coalesce(f.fit_rules_fired, 0) as fit_rules_fired,
        r.top_reasons
    from contacts as c
    left join fit as f on c.contact_id = f.contact_id
    left join engaged as e on c.contact_id = e.contact_id
    left join top_reasons as r on c.contact_id = r.contact_id
),

totals as (
    select *, fit_score + engagement_score as total_score
    from scored
),

-- each grade as a band [min_score, next grade's min_score); the lowest band also takes totals
-- below every min_score. A join on the bands, not a ranking of every grade for every contact.
grade_bands as (
    select
        grade,
        min_score,
        lead(min_score) over (order by min_score) as next_min_score,
        row_number() over (order by min_score) = 1 as is_lowest
    from "config"."lead_score_grades"
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
    t.total_score >= 60 as is_sales_ready,
    t.fit_rules_fired,
    t.top_reasons,
    cast('{as_of}' as date) as scored_as_of
from totals as t
left join grade_bands as g
    on (t.total_score >= g.min_score or g.is_lowest)
    and (t.total_score < g.next_min_score or g.next_min_score is null)
