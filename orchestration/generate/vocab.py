"""Word lists the synthetic companies draw from.

Everything is ASCII so that e-mail addresses built from names stay valid without
transliteration. Lists are tuples of labels; the model keeps integer codes into them and the
writers turn codes into text (pandas categoricals), which keeps millions of rows cheap.
"""

from __future__ import annotations

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Carlos", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark", "Ashley",
    "Priya", "Emily", "Wei", "Aisha", "Kenji", "Fatima", "Lukas", "Sofia", "Mateo", "Chloe",
    "Ahmed", "Olivia", "Raj", "Hannah", "Diego", "Mia", "Noah", "Grace", "Liam", "Zoe", "Ethan",
    "Nora", "Omar", "Ingrid", "Pierre", "Elena", "Jonas", "Amara", "Tomas", "Yuki", "Samuel",
    "Leah", "Andre", "Camila", "Felix", "Maya",
)

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Clark", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Nguyen", "Hill", "Green",
    "Adams", "Baker", "Nelson", "Patel", "Chen", "Kim", "Schmidt", "Muller", "Dubois", "Rossi",
    "Jansen", "Larsen", "Novak", "Okafor", "Tanaka", "Silva", "Khan", "Murphy", "Kelly",
    "O'Brien", "Fischer", "Weber", "Moreau", "Bakker", "Lindqvist", "Costa", "Reyes",
)

# Company names are "<Prefix><core> <suffix>", e.g. "Bluepeak Systems".
COMPANY_PREFIXES = (
    "Blue", "North", "Silver", "Bright", "Red", "Summit", "Iron", "Cedar", "Apex", "Nova",
    "Green", "Clear", "Stone", "Sun", "Oak", "Pine", "Swift", "True", "High", "Gold", "River",
    "Falcon", "Harbor", "Maple", "Crystal", "Eagle", "Urban", "Prime", "Atlas", "Orbit", "Pacific",
    "Granite", "Willow", "Vertex", "Cobalt", "Amber", "Polar", "Quantum", "Echo", "Lumen",
)
COMPANY_CORES = (
    "peak", "river", "stone", "field", "wave", "bridge", "point", "line", "gate", "forge",
    "works", "light", "path", "view", "crest", "ridge", "port", "spring", "wood", "bay", "star",
    "hill", "side", "mark", "core", "shift", "loop", "grid", "leaf", "cloud",
)
COMPANY_SUFFIXES = (
    "Systems", "Labs", "Group", "Technologies", "Partners", "Logistics", "Health", "Foods",
    "Industries", "Solutions", "Holdings", "Media", "Analytics", "Manufacturing", "Retail",
)

# HubSpot's industry property uses LinkedIn-style labels; the other CRMs get the same text.
INDUSTRIES = (
    "Computer Software", "Information Technology & Services", "Financial Services",
    "Hospital & Health Care", "Retail", "Marketing & Advertising", "Machinery",
    "Logistics & Supply Chain", "Construction", "Higher Education", "Real Estate",
    "Telecommunications", "Insurance", "Food & Beverages", "Automotive",
)

# (label, low, high) employee bands; the numeric employee count is drawn inside the band.
SIZE_BANDS = (
    ("1-10", 1, 10), ("11-50", 11, 50), ("51-200", 51, 200), ("201-500", 201, 500),
    ("501-1000", 501, 1000), ("1001-5000", 1001, 5000), ("5001-10000", 5001, 10000),
)

# Job titles with a seniority code: 0 C-level, 1 VP, 2 director/head, 3 manager, 4 individual.
JOB_TITLES = (
    ("CEO", 0), ("CFO", 0), ("CTO", 0), ("COO", 0), ("Chief Revenue Officer", 0),
    ("VP of Sales", 1), ("VP of Marketing", 1), ("VP of Operations", 1), ("VP of Engineering", 1),
    ("Director of IT", 2), ("Director of Marketing", 2), ("Director of Operations", 2),
    ("Head of Procurement", 2), ("Head of Finance", 2),
    ("Marketing Manager", 3), ("IT Manager", 3), ("Operations Manager", 3),
    ("Procurement Manager", 3), ("Sales Manager", 3),
    ("Marketing Specialist", 4), ("Data Analyst", 4), ("Software Engineer", 4),
    ("Account Executive", 4), ("Office Manager", 4), ("Buyer", 4),
)
# Probability that a contact of that seniority is the decision maker.
DECISION_MAKER_P = (0.9, 0.75, 0.5, 0.25, 0.08)

# (country, calling code, top-level domain, is in the euro area)
COUNTRIES = (
    ("United States", "+1", "com", False), ("Canada", "+1", "ca", False),
    ("United Kingdom", "+44", "co.uk", False), ("Germany", "+49", "de", True),
    ("France", "+33", "fr", True), ("Netherlands", "+31", "nl", True),
    ("Spain", "+34", "es", True), ("Ireland", "+353", "ie", True),
    ("Australia", "+61", "com.au", False), ("India", "+91", "in", False),
    ("Brazil", "+55", "com.br", False), ("Sweden", "+46", "se", False),
    ("Mexico", "+52", "mx", False),
)
# Share of deals per country, same order as COUNTRIES (mostly North America).
COUNTRY_WEIGHTS = (0.58, 0.07, 0.08, 0.06, 0.04, 0.03, 0.02, 0.02, 0.03, 0.03, 0.02, 0.01, 0.01)

BUDGET_RANGES_LABEL = "Budget Range"
DECISION_MAKER = ("Yes", "No")
NEED_IDENTIFIED = ("Yes", "No")
PURCHASE_TIMELINES = ("0-3 months", "3-6 months", "6-12 months", "12+ months", "Not sure")

# Canonical activity types (docs/export-formats.md), in the order the model codes them.
ACTIVITY_TYPES = (
    "email_sent", "email_opened", "email_clicked", "call", "meeting", "form_fill", "site_visit",
    "note", "task",
)
# Activity types a sales rep performs (the others are the contact's own actions).
SALES_ACTIVITY = (True, False, False, True, True, False, False, True, True)

HUBSPOT_LIFECYCLE = (
    "Subscriber", "Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity",
    "Customer",
)
