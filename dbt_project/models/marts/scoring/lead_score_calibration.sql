-- Does the score predict wins? For contacts whose deals have closed: how many there are and how
-- often they won, by score band (total_score in steps of `lead_score_band_width`) and by grade.
-- A contact counts as won when any deal it is the primary contact of was won. Scores are the
-- current ones (as of the run), not the score at the time the deal closed.
with closed as (
    select
        primary_contact_id as contact_id,
        max(case when outcome = 'won' then 1 else 0 end) as won
    from {{ ref('fct_deals') }}
    where outcome in ('won', 'lost') and primary_contact_id is not null
    group by primary_contact_id
),

scored as (
    select
        s.grade,
        floor(s.total_score / {{ var('lead_score_band_width') }})
            * {{ var('lead_score_band_width') }} as band_min_score,
        c.won
    from {{ ref('lead_scores') }} as s
    inner join closed as c on s.contact_id = c.contact_id
),

by_band as (
    select
        'score_band' as dimension,
        '[' || cast(cast(band_min_score as {{ dbt.type_int() }}) as {{ dbt.type_string() }})
            || ', ' || cast(cast(band_min_score + {{ var('lead_score_band_width') }}
                as {{ dbt.type_int() }}) as {{ dbt.type_string() }}) || ')' as band,
        band_min_score,
        count(*) as closed_contacts,
        sum(won) as won_contacts
    from scored
    group by band_min_score
),

by_grade as (
    select
        'grade' as dimension,
        g.grade as band,
        cast(g.min_score as {{ type_double() }}) as band_min_score,
        count(s.won) as closed_contacts,
        coalesce(sum(s.won), 0) as won_contacts
    from {{ ref('lead_score_grades') }} as g
    left join scored as s on s.grade = g.grade
    group by g.grade, g.min_score
),

unioned as (
    select * from by_band
    union all
    select * from by_grade
)

select
    dimension,
    band,
    band_min_score,
    closed_contacts,
    won_contacts,
    case when closed_contacts > 0
        then cast(won_contacts as {{ type_double() }}) / closed_contacts end as win_rate,
    cast('{{ as_of_date() }}' as date) as scored_as_of
from unioned
