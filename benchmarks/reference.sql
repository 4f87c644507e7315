-- The benchmark's reference: the pipeline's core transformation as one plain DuckDB script,
-- with none of the pipeline's machinery (no typing rules, quarantine, load bookkeeping, dbt,
-- tests, checks, publication). It ingests deals and stage changes of the three export formats
-- written by `salespipe generate`, builds the stage transitions (consecutive events in the same
-- stage collapse into one stay) and flags stalled deals: open deals whose current stay is
-- longer than the 90th percentile of completed stays in that stage.
-- {export} is replaced by the export folder and {as_of} by the as-of day (benchmarks/run.py).
set TimeZone = 'UTC';

-- ingest ---------------------------------------------------------------------------------------
create table hs_deals as
select * from read_csv('{export}/hubspot/deals*.csv', all_varchar = true, union_by_name = true);

create table hs_stages as
select p.label as pipeline, s.label as stage, cast(s.displayOrder as integer) as stage_order,
       s.metadata.isClosed = 'true' as is_closed
from (select unnest(results) as p from read_json('{export}/hubspot/pipelines.json')),
     lateral (select unnest(p.stages) as s);

create table ac_deals as
select unnest(deals, recursive := true)
from read_json('{export}/activecampaign/deals*.json', union_by_name = true,
               maximum_object_size = 2000000000);

create table ac_log as
select unnest(dealActivities, recursive := true)
from read_json('{export}/activecampaign/dealActivities*.json', union_by_name = true,
               maximum_object_size = 2000000000);

create table ac_stages as
select unnest(dealStages, recursive := true)
from read_json('{export}/activecampaign/dealStages*.json', maximum_object_size = 2000000000);

create table g_deals as
select * from read_csv('{export}/generic/deals*.csv', all_varchar = true, union_by_name = true);

-- stage events, one canonical shape ----------------------------------------------------------
create table events as
with hubspot as (
    select 'hubspot-' || "Record ID" as deal_id, "Pipeline" as pipeline,
           regexp_extract(col, '^Date entered "(.*) \((.*)\)"$', 1) as stage,
           strptime(val, '%Y-%m-%d %H:%M') as entered_at
    from (unpivot hs_deals on columns('^Date entered ') into name col value val)
),
activecampaign as (
    select 'activecampaign-' || l.d_id as deal_id, d."group" as pipeline,
           case
               when l.dataType = 'deal' and l.dataAction = 'create' then l.d_stageid
               when l.dataType = 'd_stageid' then l.dataNewval
               when l.dataType = 'status' and l.dataNewval = '1' then 'won'
               when l.dataType = 'status' and l.dataNewval = '2' then 'lost'
               when l.dataType = 'status' and l.dataNewval = '0' then l.d_stageid
           end as stage,
           cast(cast(l.cdate as timestamptz) at time zone 'UTC' as timestamp) as entered_at
    from ac_log as l
    inner join ac_deals as d on d.id = l.d_id
    where (l.dataType = 'deal' and l.dataAction = 'create') or l.dataType in ('d_stageid', 'status')
),
generic_entered as (
    select 'generic-' || "Deal - ID" as deal_id, "Deal - Pipeline" as pipeline,
           replace(col, 'Deal - Entered ', '') as stage,
           strptime(val, '%m/%d/%Y %H:%M') as entered_at
    from (unpivot g_deals on columns('^Deal - Entered ') into name col value val)
),
generic_closed as (
    select 'generic-' || "Deal - ID", "Deal - Pipeline", "Deal - Stage",
           strptime("Deal - Close time", '%m/%d/%Y %H:%M')
    from g_deals
    where "Deal - Stage" in ('Won', 'Lost', 'Renewed', 'Churned') and "Deal - Close time" is not null
)
select * from hubspot
union all select * from activecampaign
union all select * from generic_entered
union all select * from generic_closed;

-- transitions --------------------------------------------------------------------------------
create table transitions as
with ordered as (
    select *, lag(stage) over (partition by deal_id order by entered_at) as previous_stage
    from events
),
stays as (
    select * from ordered where previous_stage is null or previous_stage <> stage
)
select
    deal_id, pipeline, stage,
    lag(stage) over w as from_stage,
    row_number() over w as entry_number,
    entered_at,
    lead(entered_at) over w as exited_at,
    date_diff('second', entered_at,
              coalesce(lead(entered_at) over w, cast('{as_of}' as date) + interval 1 day))
        / 86400.0 as days_in_stage
from stays
window w as (partition by deal_id order by entered_at);

-- stalled deals --------------------------------------------------------------------------------
create table open_deals as
select 'hubspot-' || d."Record ID" as deal_id
from hs_deals as d
inner join hs_stages as s on s.pipeline = d."Pipeline" and s.stage = d."Deal Stage"
where not s.is_closed
union all
select 'activecampaign-' || id from ac_deals where status = '0'
union all
select 'generic-' || "Deal - ID" from g_deals
where "Deal - Stage" not in ('Won', 'Lost', 'Renewed', 'Churned');

create table stalled as
with normal as (
    select pipeline, stage, quantile_cont(days_in_stage, 0.9) as p90_days
    from transitions where exited_at is not null
    group by all
)
select t.deal_id, t.pipeline, t.stage, t.days_in_stage, n.p90_days
from transitions as t
inner join open_deals as o on o.deal_id = t.deal_id
inner join normal as n on n.pipeline = t.pipeline and n.stage = t.stage
where t.exited_at is null and t.days_in_stage > n.p90_days;

select
    (select count(*) from events) as stage_events,
    (select count(*) from transitions) as transitions,
    (select count(*) from open_deals) as open_deals,
    (select count(*) from stalled) as stalled_deals;
