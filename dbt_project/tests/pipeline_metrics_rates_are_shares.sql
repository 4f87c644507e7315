-- Win rates are shares, and a period never closes more deals than exist. Returns offending rows.
select pipeline_id, currency, period, win_rate
from {{ ref('pipeline_metrics') }}
where win_rate not between 0 and 1
    or (win_rate is null and deals_won + deals_lost > 0)
