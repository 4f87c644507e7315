"""The three synthetic business units, one per export format.

Each format describes a different company slice (its own pipelines, stage names, reps, market
and deal sizes), as the brief asks: a HubSpot SaaS seller in New York, an ActiveCampaign SMB
marketing-software seller in Chicago, and a Pipedrive-using industrial supplier in Los Angeles.
Stage ids follow each CRM's conventions: HubSpot's default pipeline is "default" with stage ids
like "appointmentscheduled" and numeric ids for custom stages (HubSpot CRM pipelines API);
ActiveCampaign ids are small integers as strings (API v3); Pipedrive is referenced by name in
the generic mapping.yml (docs/export-formats.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import vocab


@dataclass(frozen=True)
class Stage:
    label: str
    probability: float
    median_days: float = 0.0  # typical time a deal spends in this (open) stage
    ext_id: str = ""


@dataclass(frozen=True)
class Pipeline:
    label: str
    ext_id: str
    deal_type: str  # HubSpot "Deal Type": newbusiness / existingbusiness
    stages: tuple[Stage, ...]  # open stages, in order
    won: Stage
    lost: Stage
    share: float  # share of all deals
    p_open: float  # share of deals still open at as_of
    p_won_closed: float  # won / (won + lost) among closed deals
    lost_at: tuple[float, ...]  # where lost deals leave the pipeline (weights per open stage)
    open_at: tuple[float, ...]  # where open deals sit at as_of
    amount_median: float
    amount_sigma: float

    @property
    def all_stages(self) -> tuple[Stage, ...]:
        """Open stages in order, then the won and the lost exit."""
        return (*self.stages, self.won, self.lost)


@dataclass(frozen=True)
class Team:
    name: str
    ext_id: str
    owners: tuple[tuple[str, str], ...]  # (first name, last name)
    handles: str  # "smb", "enterprise" (new business by company size) or "renewal"


@dataclass(frozen=True)
class Profile:
    key: str  # export format
    company: str
    email_domain: str  # the company's own domain (owner e-mails)
    tz: str
    pipelines: tuple[Pipeline, ...]
    teams: tuple[Team, ...]
    products: tuple[str, ...]
    # label -> (market share weight, fit effect on winning)
    industries: dict[str, tuple[float, float]]
    size_weights: tuple[float, ...]  # per vocab.SIZE_BANDS
    size_fit: tuple[float, ...]
    seniority_fit: tuple[float, ...]  # per seniority code 0..4
    lead_sources: tuple[tuple[str, float, float], ...]  # (label, weight, fit)
    budget_labels: tuple[str, ...]
    budget_bounds: tuple[float, ...]  # upper bounds of all but the last budget label
    enterprise_min_size: int  # size band index from which the enterprise team owns the deal
    dwell_scale: float = 1.0  # stretches every stage duration (longer industrial cycles)
    activity_scale: float = 1.0
    eur_share_in_euro_area: float = 0.6
    extra: dict = field(default_factory=dict)

    @property
    def owners(self) -> list[tuple[str, str, int]]:
        """(first, last, team index) for every rep, team by team."""
        return [(first, last, t) for t, team in enumerate(self.teams)
                for first, last in team.owners]


def _industries(**spec: tuple[float, float]) -> dict[str, tuple[float, float]]:
    """Industry mix: every vocab industry, the named ones with their (weight, fit)."""
    names = {n.lower().replace(" & ", "_").replace(" ", "_").replace("-", "_"): n
             for n in vocab.INDUSTRIES}
    out = {n: (0.02, -0.3) for n in vocab.INDUSTRIES}
    for k, v in spec.items():
        out[names[k]] = v
    return out


HUBSPOT = Profile(
    key="hubspot",
    company="Northwind Analytics",
    email_domain="northwind-analytics.com",
    tz="America/New_York",
    pipelines=(
        Pipeline(
            label="Sales Pipeline", ext_id="default", deal_type="newbusiness",
            stages=(
                Stage("Appointment Scheduled", 0.1, 6, "appointmentscheduled"),
                Stage("Qualified to Buy", 0.2, 9, "qualifiedtobuy"),
                Stage("Presentation Scheduled", 0.4, 10, "presentationscheduled"),
                Stage("Proposal Sent", 0.6, 12, "61420335"),
                Stage("Decision Maker Bought-In", 0.8, 10, "decisionmakerboughtin"),
                Stage("Contract Sent", 0.9, 7, "contractsent"),
            ),
            won=Stage("Closed Won", 1.0, ext_id="closedwon"),
            lost=Stage("Closed Lost", 0.0, ext_id="closedlost"),
            share=0.8, p_open=0.25, p_won_closed=0.37,
            lost_at=(0.28, 0.26, 0.18, 0.14, 0.08, 0.06),
            open_at=(0.22, 0.22, 0.18, 0.16, 0.12, 0.10),
            amount_median=18000, amount_sigma=0.9,
        ),
        Pipeline(
            label="Renewals", ext_id="75513034", deal_type="existingbusiness",
            stages=(
                Stage("Renewal Upcoming", 0.6, 20, "150231101"),
                Stage("Renewal Proposal", 0.75, 12, "150231102"),
                Stage("Renewal Negotiation", 0.9, 9, "150231103"),
            ),
            won=Stage("Renewed", 1.0, ext_id="150231104"),
            lost=Stage("Churned", 0.0, ext_id="150231105"),
            share=0.2, p_open=0.25, p_won_closed=0.65,
            lost_at=(0.45, 0.35, 0.20), open_at=(0.5, 0.3, 0.2),
            amount_median=22000, amount_sigma=0.6,
        ),
    ),
    teams=(
        Team("Mid-Market Sales", "368401", (("Alex", "Carter"), ("Jordan", "Blake"),
             ("Taylor", "Reed"), ("Morgan", "Hayes"), ("Casey", "Flynn")), "smb"),
        Team("Enterprise Sales", "368402", (("Dana", "Whitfield"), ("Chris", "Okoye"),
             ("Pat", "Lindgren"), ("Robin", "Alvarez")), "enterprise"),
        Team("Account Management", "368403", (("Sam", "Ito"), ("Jamie", "Brennan"),
             ("Avery", "Kowalski")), "renewal"),
    ),
    products=("Analytics Cloud", "Data Connectors", "Enterprise Suite", "Team Plan",
              "Embedded BI"),
    industries=_industries(
        computer_software=(0.2, 0.8), information_technology_services=(0.15, 0.6),
        financial_services=(0.12, 0.5), hospital_health_care=(0.08, 0.0),
        retail=(0.08, -0.2), marketing_advertising=(0.08, 0.3), insurance=(0.05, 0.3),
        telecommunications=(0.04, 0.2),
    ),
    size_weights=(0.08, 0.18, 0.26, 0.2, 0.13, 0.11, 0.04),
    size_fit=(-1.0, -0.4, 0.2, 0.5, 0.5, 0.3, 0.0),
    seniority_fit=(0.4, 0.6, 0.4, 0.0, -0.6),
    lead_sources=(
        ("Organic Search", 0.24, 0.1), ("Paid Search", 0.14, -0.1), ("Direct Traffic", 0.1, 0.2),
        ("Referrals", 0.12, 0.7), ("Social Media", 0.08, -0.3), ("Email Marketing", 0.1, 0.0),
        ("Offline Sources", 0.14, 0.3), ("Paid Social", 0.05, -0.4),
        ("Other Campaigns", 0.03, -0.2),
    ),
    budget_labels=("Under $10k", "$10k-$25k", "$25k-$50k", "$50k-$100k", "$100k+"),
    budget_bounds=(10000, 25000, 50000, 100000),
    enterprise_min_size=4,
)

ACTIVECAMPAIGN = Profile(
    key="activecampaign",
    company="Brightlane Marketing Software",
    email_domain="brightlane.io",
    tz="America/Chicago",
    pipelines=(
        Pipeline(
            label="New Business", ext_id="1", deal_type="newbusiness",
            stages=(
                Stage("To Contact", 0.1, 4), Stage("Qualifying", 0.2, 6),
                Stage("Demo Booked", 0.35, 7), Stage("Proposal Sent", 0.5, 8),
                Stage("Negotiating", 0.7, 6), Stage("Contract Sent", 0.85, 4),
            ),
            # ActiveCampaign has no won/lost stages: these only label the deal status.
            won=Stage("Won", 1.0), lost=Stage("Lost", 0.0),
            share=0.78, p_open=0.24, p_won_closed=0.4,
            lost_at=(0.3, 0.25, 0.18, 0.13, 0.08, 0.06),
            open_at=(0.25, 0.2, 0.18, 0.15, 0.12, 0.10),
            amount_median=4200, amount_sigma=0.8,
        ),
        Pipeline(
            label="Renewals", ext_id="2", deal_type="existingbusiness",
            stages=(Stage("Renewal Due", 0.6, 14), Stage("In Review", 0.75, 8),
                    Stage("Renewal Sent", 0.9, 6)),
            won=Stage("Won", 1.0), lost=Stage("Lost", 0.0),
            share=0.22, p_open=0.24, p_won_closed=0.62,
            lost_at=(0.5, 0.3, 0.2), open_at=(0.5, 0.3, 0.2),
            amount_median=3600, amount_sigma=0.6,
        ),
    ),
    teams=(
        Team("Inside Sales", "4", (("Riley", "Nash"), ("Quinn", "Harper"), ("Drew", "Malone"),
             ("Skyler", "Vance"), ("Reese", "Okafor")), "smb"),
        Team("Growth Sales", "5", (("Hayden", "Cole"), ("Emerson", "Pike"), ("Rowan", "Steele")),
             "enterprise"),
        Team("Customer Success", "6", (("Parker", "Lund"), ("Sage", "Moreno"),
             ("Finley", "Grant")), "renewal"),
    ),
    products=("Starter Plan", "Pro Plan", "Agency Bundle", "Automation Add-on"),
    industries=_industries(
        retail=(0.2, 0.6), marketing_advertising=(0.2, 0.7), food_beverages=(0.1, 0.3),
        real_estate=(0.1, 0.2), higher_education=(0.06, 0.0), computer_software=(0.08, 0.2),
        hospital_health_care=(0.06, -0.1),
    ),
    size_weights=(0.3, 0.35, 0.2, 0.09, 0.04, 0.015, 0.005),
    size_fit=(0.0, 0.6, 0.4, 0.0, -0.3, -0.6, -0.8),
    seniority_fit=(0.6, 0.4, 0.2, 0.1, -0.4),
    lead_sources=(
        ("Website Form", 0.26, 0.2), ("Free Trial", 0.2, 0.8), ("Webinar", 0.1, 0.3),
        ("Referral", 0.1, 0.6), ("Paid Ads", 0.16, -0.3), ("Partner", 0.06, 0.4),
        ("Cold Outreach", 0.08, -0.6), ("Trade Show", 0.04, 0.0),
    ),
    budget_labels=("Under $2k", "$2k-$5k", "$5k-$10k", "$10k-$25k", "$25k+"),
    budget_bounds=(2000, 5000, 10000, 25000),
    enterprise_min_size=3,
    dwell_scale=0.7,
)

GENERIC = Profile(
    key="generic",
    company="Ironbridge Industrial Supply",
    email_domain="ironbridge-supply.com",
    tz="America/Los_Angeles",
    pipelines=(
        Pipeline(
            label="Sales", ext_id="1", deal_type="newbusiness",
            stages=(
                Stage("Lead In", 0.1, 8), Stage("Qualified", 0.2, 12),
                Stage("Demo Scheduled", 0.35, 14), Stage("Proposal Made", 0.5, 18),
                Stage("Negotiation", 0.7, 15), Stage("Contract Sent", 0.85, 9),
            ),
            won=Stage("Won", 1.0), lost=Stage("Lost", 0.0),
            share=0.82, p_open=0.27, p_won_closed=0.38,
            lost_at=(0.26, 0.24, 0.18, 0.15, 0.11, 0.06),
            open_at=(0.2, 0.2, 0.18, 0.18, 0.14, 0.10),
            amount_median=42000, amount_sigma=1.0,
        ),
        Pipeline(
            label="Renewals", ext_id="2", deal_type="existingbusiness",
            stages=(Stage("Renewal Due", 0.6, 21), Stage("Renewal Review", 0.7, 14),
                    Stage("Renewal Quote Sent", 0.85, 10)),
            won=Stage("Renewed", 1.0), lost=Stage("Churned", 0.0),
            share=0.18, p_open=0.27, p_won_closed=0.66,
            lost_at=(0.4, 0.35, 0.25), open_at=(0.45, 0.3, 0.25),
            amount_median=30000, amount_sigma=0.7,
        ),
    ),
    teams=(
        Team("West Region", "1", (("Logan", "Price"), ("Kendall", "Ruiz"), ("Blair", "Novak"),
             ("Harley", "Dunn"), ("Jesse", "Tran")), "smb"),
        Team("East Region", "2", (("Cameron", "Shaw"), ("Devon", "Burke"), ("Ellis", "Park"),
             ("Marley", "Quinn")), "smb"),
        Team("Key Accounts", "3", (("Sidney", "Vogel"), ("Toby", "Marsh"),
             ("Adrian", "Keller")), "enterprise"),
        Team("Account Services", "4", (("Rory", "Dalton"), ("Lane", "Mercer")), "renewal"),
    ),
    products=("Conveyor Retrofit", "Spare Parts Contract", "Safety Systems", "Pallet Racking",
              "Maintenance Plan"),
    industries=_industries(
        machinery=(0.2, 0.7), logistics_supply_chain=(0.18, 0.6), construction=(0.15, 0.3),
        food_beverages=(0.12, 0.4), automotive=(0.1, 0.5), retail=(0.06, -0.2),
    ),
    size_weights=(0.04, 0.12, 0.26, 0.24, 0.16, 0.13, 0.05),
    size_fit=(-1.2, -0.5, 0.1, 0.4, 0.5, 0.4, 0.2),
    seniority_fit=(0.3, 0.5, 0.5, 0.2, -0.5),
    lead_sources=(
        ("Trade Show", 0.22, 0.4), ("Referral", 0.16, 0.7), ("Website", 0.2, 0.0),
        ("Cold Call", 0.16, -0.5), ("Distributor", 0.1, 0.3), ("Paid Ads", 0.08, -0.3),
        ("Webinar", 0.08, 0.1),
    ),
    budget_labels=("Under $25k", "$25k-$50k", "$50k-$100k", "$100k-$250k", "$250k+"),
    budget_bounds=(25000, 50000, 100000, 250000),
    enterprise_min_size=4,
    dwell_scale=1.4,
    activity_scale=0.9,
)

PROFILES = {p.key: p for p in (HUBSPOT, ACTIVECAMPAIGN, GENERIC)}
