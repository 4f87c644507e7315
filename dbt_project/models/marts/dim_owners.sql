select
    owner_id,
    source_system,
    owner_name,
    email,
    coalesce(team, 'Unassigned') as team
from {{ ref('int_owners') }}
