"""The browsers people use: real user agents, with what firstmile should derive from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["DESKTOP_DEVICES", "MOBILE_DEVICES", "POWER_DEVICES", "Device"]


@dataclass(frozen=True, slots=True)
class Device:
    """A browser on a device, with what firstmile should derive from its user agent."""

    kind: Literal["desktop", "mobile"]
    os: str  # as firstmile reports it
    browser: str  # as firstmile reports it (uap-core's family)
    user_agent: str  # a real User-Agent header


# Real user agents of current browsers (early 2024 versions).
DESKTOP_DEVICES: tuple[Device, ...] = (
    Device(
        "desktop",
        "Windows",
        "Chrome",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
    ),
    Device(
        "desktop",
        "macOS",
        "Chrome",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
    ),
    Device(
        "desktop",
        "Linux",
        "Chrome",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
    ),
    Device(
        "desktop",
        "Windows",
        "Firefox",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    Device(
        "desktop",
        "macOS",
        "Firefox",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    Device(
        "desktop",
        "Ubuntu",
        "Firefox",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    Device(
        "desktop",
        "macOS",
        "Safari",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4.1 Safari/605.1.15",
    ),
    Device(
        "desktop",
        "Windows",
        "Edge",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
    ),
)

MOBILE_DEVICES: tuple[Device, ...] = (
    Device(
        "mobile",
        "iOS",
        "Mobile Safari",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    ),
    Device(
        "mobile",
        "iOS",
        "Mobile Safari",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7_8 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    ),
    Device(
        "mobile",
        "Android",
        "Chrome Mobile",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
    ),
    Device(
        "mobile",
        "Android",
        "Chrome Mobile",
        "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.6367.82 Mobile Safari/537.36",
    ),
    Device(
        "mobile",
        "Android",
        "Chrome Mobile",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.6367.113 Mobile Safari/537.36",
    ),
)


# Power users explore on Chrome or Firefox; Safari and Edge show up with the others.
POWER_DEVICES = tuple(d for d in DESKTOP_DEVICES if d.browser in ("Chrome", "Firefox"))
