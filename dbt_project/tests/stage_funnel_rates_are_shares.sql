-- No stage converts more deals than entered it; every rate is a share. Returns offending rows.
select stage_id, deals_entered, deals_advanced, deals_won_after
from {{ ref('stage_funnel') }}
where deals_advanced > deals_entered
    or deals_won_after > deals_entered
    or conversion_to_next_rate not between 0 and 1
    or conversion_to_won_rate not between 0 and 1
