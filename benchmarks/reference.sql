-- The benchmark's reference: the pipeline's core transformation as one plain DuckDB script,
-- with none of the pipeline's machinery (no typing rules, quarantine, load bookkeeping, dbt,
-- tests, checks, publication). It lands every file the pipeline lands from the three export
-- formats written by `salespipe generate` (deals, stage history, contacts, contact field
-- values, activities, owners, teams, pipelines and stages) and builds the same core outputs:
-- the stage transitions (consecutive events in the same stage collapse into one stay), stalled
-- deals (open deals whose current stay is longer than the 90th percentile of completed stays in
-- that stage), the stage funnel (deals that entered each stage, are in it now, and reached a
-- later one) and engagement scores (each activity's points halved every 30 days of age), so
-- that "full run / reference" compares like with like (issue 26, decision 7).
-- {export} is replaced by the export folder and {as_of} by the as-of day (benchmarks/run.py).
set TimeZone = 'UTC';

-- ingest ---------------------------------------------------------------------------------------
-- Every export file is read one way: CSV as text (typing is the pipeline's work), and
-- ActiveCampaign's JSON pages (objects of up to 2 GB holding the records in an array named
-- `key`) as one row per array element, its nested objects spread into columns.
create temp macro export_csv(files) as table
    select * from read_csv('{export}/' || files, all_varchar = true, union_by_name = true);

create temp macro ac_rows(files, key) as table
    select unnest(columns('^' || key || '$'), recursive := true)
    from read_json('{export}/activecampaign/' || files, union_by_name = true,
                   maximum_object_size = 2000000000);

create table hs_deals as select * from export_csv('hubspot/deals*.csv');

create table hs_stages as
select p.label as pipeline, s.label as stage, cast(s.displayOrder as integer) as stage_order,
       s.metadata.isClosed = 'true' as is_closed
from (select unnest(results) as p from read_json('{export}/hubspot/pipelines.json')),
     lateral (select unnest(p.stages) as s);

create table hs_contacts as select * from export_csv('hubspot/contacts*.csv');

create table hs_activities as select * from export_csv('hubspot/activities*.csv');

create table hs_owners as
select unnest(results, recursive := true) from read_json('{export}/hubspot/owners.json');

create table ac_deals as from ac_rows('deals*.json', 'deals');
create table ac_log as from ac_rows('dealActivities*.json', 'dealActivities');
create table ac_stages as from ac_rows('dealStages*.json', 'dealStages');
create table ac_pipelines as from ac_rows('dealGroups.json', 'dealGroups');
create table ac_contacts as from ac_rows('contacts*.json', 'contacts');
create table ac_field_values as from ac_rows('contacts*.json', 'fieldValues');
create table ac_activities as from ac_rows('activities*.json', 'activities');
create table ac_users as from ac_rows('users.json', 'users');
create table ac_teams as from ac_rows('groups.json', 'groups');
create table ac_fields as from ac_rows('fields.json', 'fields');

create table g_deals as select * from export_csv('generic/deals*.csv');
create table g_contacts as select * from export_csv('generic/contacts*.csv');
create table g_activities as select * from export_csv('generic/activities*.csv');
create table g_owners as select * from export_csv('generic/owners*.csv');

-- the generic export's stages come from its mapping.yml (seeds/generic/mapping.yml)
create table g_stages as
select * from (values
    ('Sales', 'Lead In', 1), ('Sales', 'Qualified', 2), ('Sales', 'Demo Scheduled', 3),
    ('Sales', 'Proposal Made', 4), ('Sales', 'Negotiation', 5), ('Sales', 'Contract Sent', 6),
    ('Sales', 'Won', 7), ('Sales', 'Lost', 8), ('Renewals', 'Renewal Due', 1),
    ('Renewals', 'Renewal Review', 2), ('Renewals', 'Renewal Quote Sent', 3),
    ('Renewals', 'Renewed', 4), ('Renewals', 'Churned', 5)
) as t(pipeline, stage, stage_order);

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

-- stage funnel -------------------------------------------------------------------------------
create table stage_order as
select 'hubspot' as source, s.pipeline, s.stage, s.stage_order from hs_stages as s
union all
-- ActiveCampaign's events carry the pipeline (group) and stage ids; won/lost come last
select 'activecampaign', st."group", st.id, cast(st."order" as integer) from ac_stages as st
union all
select 'activecampaign', p.id, s.stage, s.stage_order
from ac_pipelines as p, (values ('won', 100), ('lost', 101)) as s(stage, stage_order)
union all
select 'generic', * from g_stages;

create table stage_funnel as
with entered as (
    select t.deal_id, t.pipeline, t.stage, o.stage_order, t.exited_at is null as is_current
    from transitions as t
    left join stage_order as o
        on o.source = split_part(t.deal_id, '-', 1) and o.pipeline = t.pipeline
        and o.stage = t.stage
),
furthest as (
    select deal_id, max(stage_order) as furthest_order from entered group by deal_id
)
select
    split_part(e.deal_id, '-', 1) as source, e.pipeline, e.stage,
    count(distinct e.deal_id) as deals_entered,
    count(distinct case when e.is_current then e.deal_id end) as deals_in_stage_now,
    count(distinct case when f.furthest_order > e.stage_order then e.deal_id end)
        as deals_reached_later
from entered as e
inner join furthest as f on f.deal_id = e.deal_id
group by all;

-- engagement scores -----------------------------------------------------------------------------
create table activities as
select 'hubspot-' || "Associated Contact IDs" as contact_id, "Activity Type" as source_type,
       strptime("Activity Date", '%Y-%m-%d %H:%M') as occurred_at
from hs_activities
union all
select 'activecampaign-' || contact, type,
       cast(cast(tstamp as timestamptz) at time zone 'UTC' as timestamp)
from ac_activities
union all
select 'generic-' || "Activity - Person ID", "Activity - Type",
       strptime("Activity - Done time", '%m/%d/%Y %H:%M')
from g_activities;

create table engagement as
with points as (
    select * from (values
        ('EMAIL_OPEN', 1), ('EMAIL_CLICK', 3), ('PAGE_VIEW', 2), ('FORM_SUBMISSION', 10),
        ('CALL', 5), ('MEETING', 15), ('open', 1), ('click', 3), ('visit', 2), ('form', 10),
        ('call', 5), ('meeting', 15), ('Email opened', 1), ('Email clicked', 3),
        ('Website visit', 2), ('Form submitted', 10), ('Call', 5), ('Meeting', 15)
    ) as t(source_type, points)
)
select a.contact_id,
       sum(p.points * power(0.5, date_diff('day', cast(a.occurred_at as date),
                                           cast('{as_of}' as date)) / 30.0)) as engagement
from activities as a
inner join points as p on p.source_type = a.source_type
where a.contact_id is not null and a.occurred_at < cast('{as_of}' as date) + interval 1 day
group by a.contact_id;

select
    (select count(*) from events) as stage_events,
    (select count(*) from transitions) as transitions,
    (select count(*) from open_deals) as open_deals,
    (select count(*) from stalled) as stalled_deals,
    (select count(*) from hs_contacts) + (select count(*) from ac_contacts)
        + (select count(*) from g_contacts) as contacts,
    (select count(*) from ac_field_values) as field_values,
    (select count(*) from activities) as activities,
    (select count(*) from hs_owners) + (select count(*) from ac_users)
        + (select count(*) from g_owners) as owners,
    (select count(*) from stage_funnel) as funnel_rows,
    (select count(*) from engagement) as engaged_contacts;
