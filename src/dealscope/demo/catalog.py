"""The facts the synthetic brokerage is built from: its market, its lead sources, its pipeline.

Figures are set to be plausible for a mid-size independent brokerage in the Austin, Texas
metro in the mid-2020s (public median prices by zip, portal fee practices, typical lead
conversion rates of about 1-3% for internet leads and 15-20% for sphere and past clients).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dealscope.analytics.stages import PIPELINE_STAGES

# --- the pipeline ---------------------------------------------------------------------

# The canonical stages are analytics' (one definition); the generator walks them in order.
STAGES: tuple[str, ...] = PIPELINE_STAGES
# Share of a lead's overall close propensity spent at each transition after "new": a lead
# with propensity q passes transition k with probability q ** weight_k, so the product over
# all transitions is q itself.
TRANSITION_WEIGHTS = np.array([0.04, 0.26, 0.20, 0.14, 0.14, 0.10, 0.12])
# Median days spent in each stage before moving on (index k: stage k -> k+1, from contacted),
# and the lognormal spread.
STAGE_MEDIAN_DAYS = np.array([2.5, 6.0, 5.0, 24.0, 3.0, 34.0])
STAGE_SIGMA = np.array([0.9, 0.8, 0.8, 0.9, 0.6, 0.25])
# Median days a deal lingers in a stage before it is marked lost there (early leads are
# nurtured for weeks before anyone gives up on them).
LOSS_MEDIAN_DAYS = np.array([30.0, 50.0, 40.0, 30.0, 45.0, 10.0, 18.0])
# History simulated before the requested period so that its pipeline starts full, not empty.
WARM_UP_DAYS = 183
LOST_REASONS: tuple[tuple[str, ...], ...] = (
    ("no_response", "bad_contact_info"),
    ("unresponsive", "not_ready"),
    ("not_ready", "chose_other_agent", "financing"),
    ("chose_other_agent", "no_show"),
    ("nothing_suitable", "priced_out", "chose_other_agent"),
    ("outbid", "priced_out"),
    ("inspection", "financing_fell_through", "appraisal_gap"),
)

# --- lead sources ---------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    key: str
    share: float  # share of new inquiries at the start of the period
    share_growth: float  # relative change of that share over the period
    close_rate: float  # lead -> closed deal for an average agent with average response
    cost_per_lead: float  # marketing spend per lead, dollars
    fixed_monthly_cost: float  # spend that does not scale with leads
    referral_fee: float  # share of GCI paid to the portal or referrer at closing
    buyer_share: float  # share of its leads who want to buy (the rest sell)
    medium: str
    utm_source: str | None
    touch_type: str
    prior_touches: float  # mean number of touches before the inquiry
    click_id_type: str | None = None


SOURCES: tuple[Source, ...] = (
    Source(
        "zillow",
        0.24,
        -0.15,
        0.030,
        12.0,
        900.0,
        0.35,
        0.88,
        "portal",
        "zillow",
        "portal_lead",
        0.8,
    ),
    Source(
        "realtor_com",
        0.12,
        -0.05,
        0.022,
        38.0,
        0.0,
        0.0,
        0.85,
        "portal",
        "realtor.com",
        "portal_lead",
        0.7,
    ),
    Source(
        "website",
        0.14,
        0.10,
        0.028,
        0.0,
        2500.0,
        0.0,
        0.55,
        "organic",
        "google",
        "form_submit",
        2.2,
    ),
    Source("referral", 0.08, 0.0, 0.160, 0.0, 0.0, 0.25, 0.60, "referral", None, "call", 0.3),
    Source("sphere", 0.07, 0.0, 0.200, 0.0, 1500.0, 0.0, 0.55, "email", "newsletter", "call", 0.6),
    Source(
        "open_house",
        0.09,
        0.0,
        0.050,
        45.0,
        0.0,
        0.0,
        0.80,
        "offline",
        None,
        "open_house_signin",
        0.4,
    ),
    Source(
        "paid_social",
        0.16,
        0.45,
        0.009,
        16.0,
        0.0,
        0.0,
        0.70,
        "paid_social",
        "facebook",
        "form_submit",
        2.0,
        "fbclid",
    ),
    Source(
        "paid_search",
        0.10,
        0.10,
        0.018,
        32.0,
        0.0,
        0.0,
        0.75,
        "cpc",
        "google",
        "form_submit",
        1.6,
        "gclid",
    ),
)
SOURCE_KEYS = tuple(s.key for s in SOURCES)
SOURCE_INDEX = {s.key: i for i, s in enumerate(SOURCES)}
REPEAT_CLOSE_RATE = 0.38  # a past client who comes back
REPEAT_RATE = 0.10  # share of clients who return for another deal
CLIENT_REFERRAL_RATE = 0.22  # share of clients who send someone

# Channels a contact may touch before the inquiry (multi-touch journeys).
PRIOR_CHANNELS: tuple[tuple[str, str | None, str | None, str, float], ...] = (
    # channel, utm_source, utm_medium, touch_type, weight
    ("organic_search", "google", "organic", "page_view", 0.30),
    ("paid_search", "google", "cpc", "page_view", 0.14),
    ("paid_social", "facebook", "paid_social", "page_view", 0.18),
    ("email", "newsletter", "email", "email_click", 0.10),
    ("direct", None, None, "page_view", 0.16),
    ("zillow", "zillow", "portal", "page_view", 0.08),
    ("realtor_com", "realtor.com", "portal", "page_view", 0.04),
)

CAMPAIGN_THEMES: dict[str, tuple[str, ...]] = {
    "paid_social": ("home_valuation", "first_time_buyers", "new_listings_carousel", "seller_guide"),
    "paid_search": ("homes_for_sale", "realtor_near_me", "sell_my_home", "condos_downtown"),
    "website": ("blog_market_update", "home_search", "valuation_tool"),
    "sphere": ("monthly_newsletter", "client_event", "market_report"),
    "zillow": ("premier_agent",),
    "realtor_com": ("readyconnect",),
}

# --- the market -----------------------------------------------------------------------


@dataclass(frozen=True)
class Zip:
    code: str
    city: str
    median_price: float  # single-family median at the end of the period, dollars
    weight: float  # share of the market's activity
    condo_share: float
    lat: float
    lon: float


ZIPS: tuple[Zip, ...] = (
    Zip("78701", "Austin", 690_000, 0.030, 0.85, 30.2711, -97.7437),
    Zip("78702", "Austin", 610_000, 0.045, 0.20, 30.2630, -97.7140),
    Zip("78703", "Austin", 1_350_000, 0.035, 0.15, 30.2935, -97.7677),
    Zip("78704", "Austin", 780_000, 0.070, 0.25, 30.2430, -97.7650),
    Zip("78731", "Austin", 980_000, 0.035, 0.15, 30.3470, -97.7690),
    Zip("78745", "Austin", 485_000, 0.075, 0.10, 30.2070, -97.7960),
    Zip("78746", "West Lake Hills", 1_650_000, 0.030, 0.08, 30.2970, -97.8120),
    Zip("78748", "Austin", 455_000, 0.055, 0.05, 30.1660, -97.8230),
    Zip("78749", "Austin", 565_000, 0.050, 0.05, 30.2160, -97.8580),
    Zip("78750", "Austin", 655_000, 0.040, 0.08, 30.4220, -97.8010),
    Zip("78757", "Austin", 625_000, 0.040, 0.12, 30.3520, -97.7330),
    Zip("78759", "Austin", 640_000, 0.045, 0.12, 30.4030, -97.7520),
    Zip("78664", "Round Rock", 405_000, 0.070, 0.04, 30.5120, -97.6780),
    Zip("78681", "Round Rock", 435_000, 0.050, 0.04, 30.5160, -97.7210),
    Zip("78613", "Cedar Park", 505_000, 0.060, 0.05, 30.5050, -97.8200),
    Zip("78660", "Pflugerville", 390_000, 0.070, 0.03, 30.4390, -97.6200),
    Zip("78628", "Georgetown", 455_000, 0.060, 0.04, 30.6330, -97.7320),
    Zip("78641", "Leander", 430_000, 0.060, 0.03, 30.5790, -97.8530),
    Zip("78640", "Kyle", 340_000, 0.060, 0.03, 29.9890, -97.8770),
)
STATE = "TX"
TIMEZONE = "America/Chicago"

# Property types: (our key, RESO PropertyType, RESO PropertySubType, price factor, share)
PROPERTY_TYPES: tuple[tuple[str, str, str, float, float], ...] = (
    ("single_family", "Residential", "SingleFamilyResidence", 1.00, 0.70),
    ("condo", "Residential", "Condominium", 0.60, 0.00),  # share set per zip
    ("townhouse", "Residential", "Townhouse", 0.78, 0.11),
    ("multi_family", "ResidentialIncome", "Duplex", 1.22, 0.04),
    ("land", "Land", "UnimprovedLand", 0.42, 0.04),
)

ANNUAL_APPRECIATION = 0.035
ANNUAL_LEAD_GROWTH = 0.15
# Relative lead volume by calendar month (spring market) and by weekday (Mon..Sun).
MONTH_SEASONALITY = np.array(
    [0.78, 0.88, 1.08, 1.20, 1.22, 1.15, 1.05, 0.98, 0.92, 0.88, 0.80, 0.70]
)
WEEKDAY_SEASONALITY = np.array([1.10, 1.05, 1.00, 1.00, 0.90, 0.95, 1.00])
# Share of inquiries by local hour of day (people browse at lunch and in the evening).
HOUR_WEIGHTS = np.array(
    [
        0.4,
        0.2,
        0.1,
        0.1,
        0.1,
        0.3,
        0.8,
        1.6,
        2.6,
        3.4,
        4.0,
        4.4,
        4.8,
        4.6,
        4.2,
        4.0,
        4.0,
        4.3,
        4.8,
        5.4,
        5.6,
        4.6,
        2.8,
        1.2,
    ]
)
MORTGAGE_RATE_MEAN = 6.6  # %, the level the weekly 30-year rate reverts to

COMPANY_NAME = "Summit Ridge Realty"
COMPETITORS: tuple[tuple[str, float], ...] = (
    ("Keystone Properties", 0.14),
    ("Lone Star Realty Group", 0.12),
    ("Capital City Homes", 0.10),
    ("Bluebonnet Realty", 0.08),
    ("Hill Country Partners", 0.07),
    ("Magnolia & Co. Real Estate", 0.06),
    ("Urban Nest Realty", 0.05),
    ("Independent brokerages", 0.30),
)
OUR_MARKET_SHARE = 0.08  # of the metro's closed sides, roughly; competitors take the rest

# --- people ---------------------------------------------------------------------------

_FIRST_NAMES = """
James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara
Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy
Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul
Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy
Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Amy Jacob Kathleen
Gary Angela Nicholas Shirley Eric Brenda Jonathan Emma Stephen Anna Larry Pamela Justin
Nicole Scott Samantha Brandon Katherine Benjamin Christine Samuel Helen Gregory Debra
Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria Jack Olivia Dennis Heather
Jerry Diane Tyler Julie Aaron Joyce Jose Victoria Adam Ruth Nathan Virginia Henry Lauren
Zachary Kelly Douglas Christina Peter Joan Kyle Evelyn Noah Judith Ethan Andrea Jeremy
Hannah Walter Megan Christian Cheryl Keith Jacqueline Roger Martha Terry Madison Austin
Teresa Sean Gloria Gerald Sara Carl Janice Harold Ann Dylan Kathryn Arthur Abigail
Lawrence Sophia Jordan Frances Jesse Jean Bryan Alice Billy Judy Bruce Isabella Gabriel
Julia Joe Grace Logan Amber Alan Denise Juan Danielle Albert Marilyn Willie Beverly Elijah
Charlotte Wayne Natalie Randy Theresa Vincent Diana Mason Brittany Roy Doris Ralph Kayla
Bobby Alexis Russell Lori Bradley Marie Philip Mia Eugene Priya Wei Mei Hiroshi Yuki
Carlos Lucia Miguel Sofia Diego Camila Ahmed Fatima Omar Aisha
"""
FIRST_NAMES = tuple(_FIRST_NAMES.split())
_LAST_NAMES = """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White
Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres
Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts
Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales
Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos
Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes
Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry
Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons
Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West
Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro
Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry
Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez
Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd
Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols
Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce
Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson
Carroll
"""
LAST_NAMES = tuple(_LAST_NAMES.split())
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "att.net")
STREET_NAMES = (
    "Oak",
    "Cedar",
    "Pecan",
    "Live Oak",
    "Bluebonnet",
    "Mesquite",
    "Barton",
    "Riverside",
    "Lamar",
    "Congress",
    "Mopac",
    "Shoal Creek",
    "Bee Caves",
    "Brodie",
    "Slaughter",
    "Parmer",
    "Spicewood",
    "Balcones",
    "Manchaca",
    "Cameron",
    "Wells Branch",
    "Palm Valley",
    "Ronald Reagan",
)
STREET_SUFFIXES = ("St", "Dr", "Ln", "Ave", "Blvd", "Ct", "Trl", "Cv", "Way", "Pass")
OFFICE_NAMES = ("Downtown", "Westlake", "Round Rock", "Cedar Park", "South Austin", "Georgetown")
TEAM_NAMES = (
    "Apex",
    "Bluebonnet",
    "Capitol",
    "Cypress",
    "Hill Country",
    "Lakeline",
    "Limestone",
    "Live Oak",
    "Pecan Street",
    "Riverside",
    "Rainey",
    "Sunset",
    "Trailhead",
    "Zilker",
    "Barton Springs",
    "Mueller",
    "Domain",
    "Brushy Creek",
    "San Gabriel",
    "Onion Creek",
    "Walnut Creek",
    "Bull Creek",
    "Shoal Creek",
    "Pedernales",
    "Colorado",
    "Llano",
)
SPLIT_PLANS: tuple[tuple[str, float, float], ...] = (
    # name, agent share of GCI, annual company-dollar cap
    ("60/40 to $30k cap", 0.60, 30_000.0),
    ("70/30 to $24k cap", 0.70, 24_000.0),
    ("80/20 to $18k cap", 0.80, 18_000.0),
    ("90/10 to $12k cap", 0.90, 12_000.0),
)
