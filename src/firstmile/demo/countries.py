"""Where simulated people live: addresses, locales, time zones, names.

Each :class:`Country` pairs public IP addresses that the offline IP database maps to
that country with matching locales and IANA time zones, the ways people type the
country's name in a form, and common first and last names there.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COUNTRIES", "Country"]


@dataclass(frozen=True, slots=True)
class Country:
    """Where a person is: addresses, locale, time zones, and how they type the name."""

    code: str  # ISO 3166-1 alpha-2, what firstmile should report
    ips: tuple[str, ...]  # public addresses the offline IP database maps to `code`
    locales: tuple[str, ...]
    timezones: tuple[str, ...]  # IANA names
    spellings: tuple[str, ...]  # what people type in a "country" field
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    weight: float


COUNTRIES: tuple[Country, ...] = (
    Country(
        "US",
        ("73.15.22.9", "98.207.44.12", "71.190.3.77", "24.16.80.5"),
        ("en-US",),
        ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
        ("United States", "us", "USA", "United States of America"),
        ("James", "Olivia", "Michael", "Emma", "Ethan", "Ava", "Noah", "Sophia"),
        ("Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson"),
        0.24,
    ),
    Country(
        "GB",
        ("81.2.69.142", "86.1.2.3", "2.96.5.6", "90.196.5.6"),
        ("en-GB",),
        ("Europe/London",),
        ("United Kingdom", "uk", "GBR", "gb"),
        ("Oliver", "Amelia", "Harry", "Isla", "George", "Poppy"),
        ("Taylor", "Jones", "Evans", "Thomas", "Roberts", "Walker"),
        0.10,
    ),
    Country(
        "DE",
        ("80.150.6.143", "91.64.1.2", "84.128.20.33", "87.123.4.5"),
        ("de-DE",),
        ("Europe/Berlin",),
        ("Germany", "de", "DEU"),
        ("Lukas", "Mia", "Leon", "Hannah", "Felix", "Lea"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner"),
        0.10,
    ),
    Country(
        "FR",
        ("88.160.1.2", "90.80.1.2", "86.246.7.8", "82.64.12.13"),
        ("fr-FR",),
        ("Europe/Paris",),
        ("France", "fr", "FRA"),
        ("Louis", "Chloé", "Gabriel", "Léa", "Hugo", "Manon"),
        ("Martin", "Bernard", "Dubois", "Laurent", "Moreau", "Lefèvre"),
        0.08,
    ),
    Country(
        "IN",
        ("49.36.1.2", "117.192.1.2", "106.205.4.5", "122.161.6.7"),
        ("en-IN", "hi-IN"),
        ("Asia/Kolkata",),
        ("India", "in", "IND"),
        ("Aarav", "Diya", "Vihaan", "Ananya", "Arjun", "Isha"),
        ("Sharma", "Patel", "Reddy", "Iyer", "Gupta", "Nair"),
        0.10,
    ),
    Country(
        "BR",
        ("177.12.1.2", "189.6.1.2", "179.216.8.9", "200.150.3.4"),
        ("pt-BR",),
        ("America/Sao_Paulo",),
        ("Brazil", "br", "BRA"),
        ("Miguel", "Alice", "Arthur", "Laura", "Heitor", "Valentina"),
        ("Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira"),
        0.07,
    ),
    Country(
        "JP",
        ("126.1.2.3", "153.150.1.2", "60.112.3.4", "133.106.5.6"),
        ("ja-JP",),
        ("Asia/Tokyo",),
        ("Japan", "jp", "JPN"),
        ("Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Ito", "Watanabe"),
        0.06,
    ),
    Country(
        "CA",
        ("99.224.1.2", "24.114.1.2", "70.48.5.6", "142.112.7.8"),
        ("en-CA", "fr-CA"),
        ("America/Toronto", "America/Vancouver", "America/Montreal"),
        ("Canada", "ca", "CAN"),
        ("Liam", "Charlotte", "Lucas", "Chloe", "Logan", "Zoe"),
        ("Tremblay", "Roy", "Gagnon", "MacDonald", "Campbell", "Lee"),
        0.07,
    ),
    Country(
        "AU",
        ("1.120.1.2", "101.160.1.2", "49.180.3.4", "110.20.5.6"),
        ("en-AU",),
        ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane"),
        ("Australia", "au", "AUS"),
        ("Jack", "Matilda", "William", "Ruby", "Thomas", "Mia"),
        ("Nguyen", "Kelly", "Ryan", "Murphy", "Mitchell", "Clarke"),
        0.06,
    ),
    Country(
        "NL",
        ("145.53.1.2", "84.80.1.2", "77.160.3.4", "62.45.5.6"),
        ("nl-NL",),
        ("Europe/Amsterdam",),
        ("Netherlands", "nl", "Holland", "The Netherlands"),
        ("Daan", "Emma", "Sem", "Julia", "Finn", "Tess"),
        ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser"),
        0.05,
    ),
    Country(
        "ES",
        ("83.32.1.2", "88.0.1.2", "79.152.3.4", "95.16.5.6"),
        ("es-ES",),
        ("Europe/Madrid",),
        ("Spain", "es", "ESP"),
        ("Hugo", "Lucía", "Martín", "Sofía", "Pablo", "Martina"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Sánchez"),
        0.04,
    ),
    Country(
        "SE",
        ("81.224.1.2", "78.72.1.2", "90.224.3.4", "83.250.5.6"),
        ("sv-SE",),
        ("Europe/Stockholm",),
        ("Sweden", "se", "SWE"),
        ("William", "Alice", "Liam", "Maja", "Elias", "Elsa"),
        ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson"),
        0.03,
    ),
)
