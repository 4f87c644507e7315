-- int_lead_engagement as it was built before it became a view over int_lead_score_parts (a
-- table read from the engagement sums and int_deals, grouped; commit 09ceb33), compiled for
-- DuckDB with the default half-life (30 days): the reference the view must equal row for row
-- (tests/test_lead_scoring.py, tests/test_incremental.py, `python -m
-- benchmarks.lead_scores_checks WAREHOUSE`) and the engagement lead_scores_reference.sql reads,
-- so that reference stays independent of the parts. {as_of} is the run's as-of date.
select
    h.contact_id,
    h.activity_type,
    sum(h.activity_count) as activity_count,
    date_diff('day', max(h.newest_day), cast('{as_of}' as date)) as newest_age_days,
    sum(p.points * h.weight * power(cast(2 as double precision),
        - date_diff('day', h.epoch_day, cast('{as_of}' as date))
        / cast(30 as double precision))) as points
from (
    -- a deal-log activity counts for the deal's primary contact now
    select
        case when s.via_deal then d.primary_contact_id else s.holder_id end as contact_id,
        s.activity_type, s.activity_count, s.newest_day, s.weight, s.epoch_day
    from "intermediate"."int_lead_engagement_sums" as s
    left join "intermediate"."int_deals" as d on s.via_deal and s.holder_id = d.deal_id
) as h
inner join (
    select activity_type, cast(points as double precision) as points
    from "config"."lead_score_engagement_points"
) as p on h.activity_type = p.activity_type
where p.points <> 0 and h.contact_id is not null
group by h.contact_id, h.activity_type
