-- An alert has a resolved_at exactly when it is resolved, and is never resolved before it
-- was flagged.
select alert_id, status, first_flagged_at, resolved_at
from {{ ref('deal_alerts') }}
where (status = 'resolved') <> (resolved_at is not null)
    or resolved_at < first_flagged_at
