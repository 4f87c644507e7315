"""Business units for the API formats (`pipedrive`, `salesforce`): records as the CRM's REST API
returns them, which the mock API servers of the tests serve and the connectors sync.

- `pipedrive` is the generic slice's company (Ironbridge Industrial Supply, a Pipedrive user)
  drawn from the *same* random stream as `generic`: the CSV export in `generic/` and the API
  records in `pipedrive/` describe the same deals, contacts and stage histories.
- `salesforce` is its own org: an enterprise medical-device seller in Denver with one sales
  process over Salesforce's default Opportunity stage picklist (Prospecting ... Negotiation/
  Review, Closed Won, Closed Lost; the picklist values and default probabilities of a new org).
"""

from __future__ import annotations

from dataclasses import replace

from .profiles import GENERIC, HUBSPOT, Pipeline, Stage, Team, _industries

PIPEDRIVE = replace(GENERIC, key="pipedrive")

SALESFORCE = replace(
    HUBSPOT,
    key="salesforce",
    company="Helix Medical Devices",
    email_domain="helixmed.com",
    tz="America/Denver",
    pipelines=(
        Pipeline(
            label="Opportunities", ext_id="default", deal_type="newbusiness",
            stages=(
                Stage("Prospecting", 0.1, 7), Stage("Qualification", 0.1, 9),
                Stage("Needs Analysis", 0.2, 10), Stage("Value Proposition", 0.5, 9),
                Stage("Id. Decision Makers", 0.6, 8), Stage("Perception Analysis", 0.7, 7),
                Stage("Proposal/Price Quote", 0.75, 12), Stage("Negotiation/Review", 0.9, 9),
            ),
            won=Stage("Closed Won", 1.0), lost=Stage("Closed Lost", 0.0),
            share=1.0, p_open=0.25, p_won_closed=0.4,
            lost_at=(0.2, 0.18, 0.15, 0.13, 0.1, 0.09, 0.08, 0.07),
            open_at=(0.16, 0.15, 0.14, 0.13, 0.12, 0.11, 0.1, 0.09),
            amount_median=55000, amount_sigma=0.9,
        ),
    ),
    teams=(
        Team("Commercial", "C", (("Morgan", "Ellis"), ("Avery", "Stone"), ("Jules", "Navarro"),
             ("Kai", "Lindholm")), "smb"),
        Team("Strategic Accounts", "S", (("Reagan", "Holt"), ("Emery", "Castillo"),
             ("Sasha", "Brandt")), "enterprise"),
        # Renewals are not a separate sales process in this org; the team has no deals.
        Team("Customer Success", "R", (("Lennon", "Ward"),), "renewal"),
    ),
    products=("Imaging Suite", "Surgical Navigation", "Service Contract", "Monitoring Platform"),
    industries=_industries(
        hospital_health_care=(0.45, 0.8), higher_education=(0.12, 0.3),
        insurance=(0.06, -0.2), information_technology_services=(0.05, 0.0),
    ),
    budget_labels=("Under $25k", "$25k-$75k", "$75k-$150k", "$150k-$300k", "$300k+"),
    budget_bounds=(25000, 75000, 150000, 300000),
)

API_PROFILES = {p.key: p for p in (PIPEDRIVE, SALESFORCE)}
# Random stream each API format draws from (pipedrive: the generic export's company).
SEED_FORMAT = {"pipedrive": "generic", "salesforce": "salesforce"}
