-- Each deal with a history has exactly one current stay. `unique` where is_current proves at
-- most one; a deal whose stays all lost the flag (the latest stay built as closed) would pass it
-- and drop out of every "deals in stage now" figure.
select deal_id, sum(case when is_current then 1 else 0 end) as current_stays
from {{ ref('fct_deal_stage_transitions') }}
group by deal_id
having sum(case when is_current then 1 else 0 end) <> 1
