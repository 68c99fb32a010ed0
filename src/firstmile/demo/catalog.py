"""The simulated product and what its users type: companies, roles, pages, features.

Plain tables, drawn from by :mod:`firstmile.demo.timeline` and
:mod:`firstmile.demo.channels`.
"""

from __future__ import annotations

__all__ = [
    "ADMIN_FEATURES",
    "ADVANCED_FEATURES",
    "APP_PAGES",
    "BASIC_FEATURES",
    "COMPANIES",
    "INTEGRATIONS",
    "MARKETING_PAGES",
    "PERSONAL_DOMAINS",
    "REFERRERS",
    "ROLES",
    "SITE",
    "STEPS",
    "TUTORIALS",
    "company_domain",
]

COMPANIES = (
    "Acme Analytics",
    "Northwind Traders",
    "Globex",
    "Initech",
    "Umbrella Labs",
    "Hooli",
    "Stark Logistics",
    "Tyrell Systems",
    "Vandelay Imports",
    "Pied Piper",
    "Aperture Science",
    "Massive Dynamic",
    "Wonka Industries",
    "Monarch Health",
    "Blue Sun Media",
    "Soylent Studio",
    "Gringotts Finance",
    "Oceanic Air",
)
PERSONAL_DOMAINS = ("gmail.com", "outlook.com", "icloud.com", "yahoo.com", "proton.me")
ROLES = ("Engineer", "Product Manager", "Founder", "Designer", "Data Analyst", "Marketer")

STEPS = (
    "Create your profile",
    "Connect a data source",
    "Invite your team",
    "Build your first dashboard",
    "Set up alerts",
)
ADVANCED_FEATURES = ("SQL Editor", "API Keys", "Webhooks", "Custom Dashboards", "Automations")
BASIC_FEATURES = ("Templates", "Quick Add", "Search", "Mobile Capture", "Reminders")
ADMIN_FEATURES = ("Permissions", "Billing", "Audit Log", "SSO Settings")
INTEGRATIONS = ("Slack", "GitHub", "Google Drive", "Salesforce", "Jira")
TUTORIALS = ("Getting started", "Your first dashboard", "Working with your team", "Using the API")
MARKETING_PAGES = (
    ("/features", "Features"),
    ("/pricing", "Pricing"),
    ("/customers", "Customers"),
    ("/blog/onboarding-that-works", "Onboarding that works"),
    ("/docs/getting-started", "Getting started"),
)
APP_PAGES = (("/app", "Home"), ("/app/dashboards", "Dashboards"), ("/app/settings", "Settings"))
REFERRERS = ("https://www.google.com/", "https://news.ycombinator.com/", "", "", "")
SITE = "https://www.example.com"


def company_domain(company: str) -> str:
    """The email domain of a company's staff.

    >>> company_domain("Pied Piper")
    'pied.com'
    """
    return company.split(maxsplit=1)[0].lower() + ".com"
