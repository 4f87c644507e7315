-- A deal reaches int_deals without a pipeline or a stage only when ingest quarantined its row
-- for that (data_quarantine: file, line, column): a HubSpot or generic export with no stage, or
-- a stage its pipeline does not list. Such a deal counts as open, by design and on record. Any
-- other deal without one is a mapping bug (a label renamed in staging, a join on the wrong
-- column) turning deals into open deals: an error, for every source (ActiveCampaign's and
-- Pipedrive's APIs always give both). Replaces the not_null tests at warn, which any quarantined
-- deal set off and which therefore could not tell the bug from the bad input.
-- Salesforce's API requires StageName, but a report export edited by hand can leave Stage
-- empty: ingest does not quarantine that row yet, so it stops the run here (file and line
-- null). The user's fix: fill in the Stage in the report. The code's: quarantine the row in
-- orchestration/sources/salesforce.py and add its raw rows (file, line) to raw_rows below.
{{ config(meta={'dagster': {'ref': {'name': 'int_deals'}}}) }}

with missing as (
    select
        deal_id,
        source_system,
        source_deal_id,
        case when pipeline_id is null then 'pipeline' else 'stage' end as missing
    from {{ ref('int_deals') }}
    where pipeline_id is null or stage_id is null
),

raw_rows as (
    select
        'hubspot' as source_system,
        source_deal_id,
        'hubspot_deals' as raw_table,
        _source_file,
        _line
    from {{ ref('stg_hubspot__deals') }}
    union all
    select source_system, source_deal_id, 'generic_deals', _source_file, _line
    from {{ ref('stg_generic__deals') }}
),

-- what ingest says about stages and pipelines, not a bad date on the same line
quarantined as (
    select raw_table, source_file, line
    from {{ source('raw', '_quarantine') }}
    where lower(reason) like '%stage%' or lower(reason) like '%pipeline%'
)

select m.deal_id, m.source_system, m.missing, r._source_file, r._line
from missing as m
left join raw_rows as r
    on m.source_system = r.source_system and m.source_deal_id = r.source_deal_id
where not exists (
    select 1 from quarantined as q
    where q.raw_table = r.raw_table and q.source_file = r._source_file and q.line = r._line
)
