with latest as (
    {{ latest_records(source('raw', 'generic_owners'), 'owner') }}
)

select
    source_system,
    owner as owner_name,
    lower(email) as email,
    team
from latest
