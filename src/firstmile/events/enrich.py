"""Enrichment: what firstmile derives from a message's ``context`` and its request.

Device, operating system and browser
    Read from ``context.userAgent``, or from the HTTP request's ``User-Agent`` header
    when the message carries none, with the `uap-core`_ rules (the ``ua-parser``
    package). The device type is one of ``desktop``, ``mobile``, ``tablet``, ``bot``,
    ``tv`` or ``other``:

    - ``bot``: crawlers, spiders and headless browsers;
    - ``tv``: smart TVs, streaming sticks and set-top boxes (Samsung Tizen, LG webOS,
      Android TV, Fire TV, Apple TV, Roku, Chromecast);
    - ``tablet``: iPad, Kindle, and Android browsers that do not say ``Mobile``;
    - ``mobile``: phones (iPhone, Android ``Mobile``, Windows Phone, …);
    - ``desktop``: Windows, macOS, Linux and ChromeOS;
    - ``other``: anything else, such as HTTP libraries (``curl``, server SDKs) and game
      consoles.

    An iPad running Safari in its default "desktop" mode sends a Mac user agent and is
    counted as ``desktop``: nothing in the header tells them apart.

    When a mobile SDK states ``context.device.type`` (``ios`` or ``android`` → ``mobile``,
    ``ipados`` or ``tablet`` → ``tablet``, ``tvos`` or ``android-tv`` → ``tv``), that wins
    over the user agent; an ``ios`` device whose ``context.device.model`` is an iPad is a
    ``tablet``. ``Mac OS X`` is reported as ``macOS`` and ``Chrome OS`` as ``ChromeOS``;
    other OS and browser names are uap-core's (``Chrome Mobile``, ``Mobile Safari``, …).
    If the user agent names no OS, ``context.os.name`` and ``context.os.version`` are used.

Country
    From ``context.ip`` when it is a public address, otherwise from the request's IP
    address, otherwise from ``context.location.country`` (a code or an English name, see
    :func:`firstmile.events.normalize.normalize_country`). Private, loopback,
    link-local, reserved and multicast addresses are never looked up. Pass the request IP
    only when the request comes from the user's own device: for server-side events it
    is the address of the customer's server.

    IP addresses are mapped to countries offline by the `iptocc`_ package, with data
    embedded in its wheel. Its documentation says the data is "refreshed nightly from the
    five Regional Internet Registries", so a country is the one a registry **assigned** the
    address block to, which is not always where the address is used. The package is
    licensed MIT OR Apache-2.0; it does not state separate terms for the embedded data,
    so see the iptocc package for those. Codes that are not ISO 3166-1 countries, such as
    the registries' ``EU`` and ``AP``, give no country.

Locale and timezone
    ``context.locale`` is canonicalized (``en_us`` → ``en-US``) or dropped if it is not a
    language tag. ``context.timezone`` is kept only if it is an IANA time zone name known
    to this system (case is corrected, so ``america/new_york`` is kept as
    ``America/New_York``).

Enrichment never fails: a field of the wrong type or shape is ignored.

.. _uap-core: https://github.com/ua-parser/uap-core
.. _iptocc: https://github.com/roniemartinez/IPToCC
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import cast

import iptocc
from ua_parser import parse

from firstmile.events.model import Enrichment
from firstmile.events.normalize import normalize_country, normalize_locale

__all__ = ["UserAgentInfo", "country_for_ip", "enrich", "parse_user_agent"]


@dataclass(frozen=True, slots=True)
class UserAgentInfo:
    """What a ``User-Agent`` header says about the device, OS and browser."""

    device_type: str | None = None  # desktop | mobile | tablet | bot | tv | other
    os: str | None = None
    os_version: str | None = None
    browser: str | None = None
    browser_version: str | None = None


_EMPTY_USER_AGENT = UserAgentInfo()
_OVERSIZED_USER_AGENT = UserAgentInfo(device_type="other")
# Real user agents stay well under this; longer strings are not worth parsing or caching
# (the caches are bounded in entries, not bytes).
_MAX_USER_AGENT_CHARS = 2048

# The longest IPv6 text form with an IPv4 tail and a scope id, with room for whitespace.
_MAX_IP_CHARS = 64

_OS_NAMES = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS", "ATV OS X": "tvOS"}
_MOBILE_OS = frozenset(
    {"iOS", "Android", "Windows Phone", "BlackBerry OS", "Symbian OS", "KaiOS", "Firefox OS"}
)
_DESKTOP_OS = frozenset(
    {
        "Windows",
        "Mac OS X",
        "Linux",
        "Chrome OS",
        "Ubuntu",
        "Debian",
        "Fedora",
        "Red Hat",
        "SUSE",
        "openSUSE",
        "Mint",
        "Arch Linux",
        "Gentoo",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
    }
)
_TV_OS = frozenset({"ATV OS X", "tvOS", "Roku", "Web0S", "Chromecast Linux"})

# uap-core already recognizes most crawlers (device family "Spider"); these are
# automation tools it reports as ordinary browsers.
_BOT = re.compile(r"headless|phantomjs|lighthouse|pingdom|uptimerobot")
_TV = re.compile(
    r"smart-?tv|hbbtv|apple ?tv|google ?tv|android ?tv|\bcrkey\b|\broku\b|\baft[a-z0-9]{1,5}\b"
    r"|bravia|netcast|web0s|\bviera\b|\btv\b"
)
_CONSOLE = re.compile(r"playstation|xbox|nintendo")
_TABLET = re.compile(r"ipad|tablet|kindle|\bsilk/|playbook|\bkf[a-z]{2,4}\b")
_MOBILE = re.compile(r"mobi|iphone|ipod|android|windows phone|blackberry|\bbb10\b")
_DESKTOP = re.compile(r"windows nt|macintosh|\bx11\b|\bcros\b")


def _version(*parts: str | None) -> str | None:
    present = []
    for part in parts:
        if part is None:
            break
        present.append(part)
    return ".".join(present) or None


def _device_type(
    lowered: str, os_family: str | None, device_family: str | None, device_brand: str | None
) -> str:
    if device_family == "Spider" or _BOT.search(lowered):
        return "bot"
    if os_family in _TV_OS or device_brand == "Generic_Inettv" or _TV.search(lowered):
        return "tv"
    if _CONSOLE.search(lowered):
        return "other"
    if (
        device_family == "iPad"
        or device_brand == "Generic_Android_Tablet"
        or _TABLET.search(lowered)
    ):
        return "tablet"
    if "android" in lowered and "mobi" not in lowered and "mozilla/" in lowered:
        # Android browsers say "Mobile" on phones only (the convention Google documents);
        # non-browser clients such as Dalvik give no hint and are mostly phones.
        return "tablet"
    if os_family in _MOBILE_OS or device_family == "iPhone" or _MOBILE.search(lowered):
        return "mobile"
    if os_family in _DESKTOP_OS or _DESKTOP.search(lowered):
        return "desktop"
    return "other"


def parse_user_agent(user_agent: str) -> UserAgentInfo:
    """Parse a ``User-Agent`` header into device type, OS and browser.

    Empty strings give an empty :class:`UserAgentInfo`; other unrecognized strings give
    device type ``other``.

    Examples:
        >>> parse_user_agent(
        ...     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"
        ...     " (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
        ... )
        UserAgentInfo(device_type='mobile', os='iOS', os_version='17.4', browser='Mobile Safari', browser_version='17.4')
        >>> parse_user_agent(
        ...     "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"
        ... ).os
        'macOS'
        >>> parse_user_agent("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)").device_type
        'bot'
    """  # noqa: E501 -- doctest output cannot be wrapped
    if len(user_agent) > _MAX_USER_AGENT_CHARS:
        return _OVERSIZED_USER_AGENT
    return _parse_user_agent(user_agent)


@lru_cache(maxsize=4096)
def _parse_user_agent(user_agent: str) -> UserAgentInfo:
    text = user_agent.strip()
    if not text:
        return _EMPTY_USER_AGENT
    result = parse(text)
    agent, system, device = result.user_agent, result.os, result.device
    os_family = system.family if system is not None else None
    return UserAgentInfo(
        device_type=_device_type(
            text.lower(),
            os_family,
            device.family if device is not None else None,
            device.brand if device is not None else None,
        ),
        os=_OS_NAMES.get(os_family, os_family) if os_family is not None else None,
        os_version=(
            _version(system.major, system.minor, system.patch, system.patch_minor)
            if system is not None
            else None
        ),
        browser=agent.family if agent is not None else None,
        browser_version=(
            _version(agent.major, agent.minor, agent.patch, agent.patch_minor)
            if agent is not None
            else None
        ),
    )


def country_for_ip(ip: str) -> str | None:
    """Return the ISO 3166-1 alpha-2 country an IP address is registered to, or ``None``.

    Invalid, private, loopback, link-local, reserved and multicast addresses give
    ``None`` without a lookup. Never raises.

    Examples:
        >>> country_for_ip("8.8.8.8")
        'US'
        >>> country_for_ip("192.168.1.10") is None, country_for_ip("not an ip") is None
        (True, True)
    """
    return None if len(ip) > _MAX_IP_CHARS else _country_for_ip(ip)


# Sized for the distinct addresses of a busy hour (an entry is ~200 bytes).
@lru_cache(maxsize=65536)
def _country_for_ip(ip: str) -> str | None:
    # Fast path (~0.3 us against ~25 us): the registries' delegations never cover private,
    # reserved, loopback, link-local or multicast space, so a country found for the text
    # as given is the answer. Everything else (spaces, IPv4-mapped IPv6, garbage) takes
    # the careful path below.
    code = iptocc.country_code(ip)
    if isinstance(code, str) and len(code) == 2:
        return normalize_country(code)
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
    ):
        return None
    code = iptocc.country_code(str(address))
    # Registries also use non-country codes (EU, AP); keep real ISO 3166-1 countries only.
    return normalize_country(code) if isinstance(code, str) and len(code) == 2 else None


@cache
def _timezones() -> dict[str, str]:
    # Read once: the set of zone names only changes when the tz database is upgraded.
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def _mapping(value: object) -> Mapping[str, object] | None:
    # The dict check first: parsed JSON is always a dict, and ABC checks cost 4x as much.
    if isinstance(value, dict) or isinstance(value, Mapping):  # noqa: SIM101
        return value
    return None


def _string(container: Mapping[str, object] | None, key: str) -> str | None:
    if container is None:
        return None
    value = container.get(key)
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return None


_SDK_DEVICE_TYPES = {
    "ios": "mobile",
    "android": "mobile",
    "ipados": "tablet",
    "tablet": "tablet",
    "tvos": "tv",
    "android-tv": "tv",
    "androidtv": "tv",
}


def _sdk_device_type(device: Mapping[str, object] | None) -> str | None:
    declared = _string(device, "type")
    if declared is None:
        return None
    device_type = _SDK_DEVICE_TYPES.get(declared.lower())
    if device_type == "mobile":
        model = _string(device, "model")
        if model is not None and model.startswith("iPad"):
            return "tablet"
    return device_type


def _version_string(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def _country(context: Mapping[str, object], request_ip: str | None) -> str | None:
    for ip in (context.get("ip"), request_ip):
        if isinstance(ip, str):
            country = country_for_ip(ip)
            if country is not None:
                return country
    location_country = _string(_mapping(context.get("location")), "country")
    return normalize_country(location_country) if location_country is not None else None


def enrich(
    context: Mapping[str, object],
    *,
    request_ip: str | None = None,
    request_user_agent: str | None = None,
) -> Enrichment:
    """Derive device, OS, browser, country, locale and timezone from a message.

    ``context`` is the message's Segment ``context`` object; ``request_ip`` and
    ``request_user_agent`` come from the HTTP request and are used when the context
    has no usable value. Never raises: values of the wrong type are ignored.

    Examples:
        >>> enrich(
        ...     {
        ...         "ip": "8.8.8.8",
        ...         "locale": "en_us",
        ...         "timezone": "Europe/Paris",
        ...         "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"
        ...         " (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        ...     }
        ... )
        Enrichment(device_type='desktop', os='Windows', os_version='10', browser='Chrome', browser_version='124.0.0.0', country='US', locale='en-US', timezone='Europe/Paris')
        >>> enrich({"device": {"type": "android"}, "os": {"name": "Android", "version": "14"}})
        Enrichment(device_type='mobile', os='Android', os_version='14', browser=None, browser_version=None, country=None, locale=None, timezone=None)
        >>> enrich({"ip": "10.0.0.1", "location": {"country": "Germany"}, "device": "junk"})
        Enrichment(device_type=None, os=None, os_version=None, browser=None, browser_version=None, country='DE', locale=None, timezone=None)
    """  # noqa: E501 -- doctest output cannot be wrapped
    inputs = _flat_inputs(context, request_ip, request_user_agent)
    if inputs is None:
        return _enrich(context, request_ip, request_user_agent)
    return _enrich_flat(*inputs)


# Most messages carry no device, os or location object. Their enrichment then depends
# only on a few short strings that repeat on every message of a user's session, so it is
# memoized on them (about 0.6 KB an entry).
_MAX_CACHED_INPUT_CHARS = 512
FlatInputs = tuple[str | None, str | None, str | None, str | None, str | None, str | None]


def _flat_inputs(
    context: Mapping[str, object], request_ip: str | None, request_user_agent: str | None
) -> FlatInputs | None:
    """The strings the enrichment of ``context`` depends on, or ``None`` if not only those."""
    if "device" in context or "os" in context or "location" in context:
        return None
    inputs = (
        context.get("userAgent"),
        context.get("ip"),
        context.get("locale"),
        context.get("timezone"),
        request_ip,
        request_user_agent,
    )
    for value in inputs:
        # Anything but a short string is rare and left uncached (the cache is bounded in
        # entries, not bytes).
        if value is not None and (type(value) is not str or len(value) > _MAX_CACHED_INPUT_CHARS):
            return None
    return cast(FlatInputs, inputs)


@lru_cache(maxsize=8192)
def _enrich_flat(
    user_agent: str | None,
    ip: str | None,
    locale: str | None,
    timezone: str | None,
    request_ip: str | None,
    request_user_agent: str | None,
) -> Enrichment:
    context = {"userAgent": user_agent, "ip": ip, "locale": locale, "timezone": timezone}
    return _enrich(context, request_ip, request_user_agent)


def _enrich(
    context: Mapping[str, object], request_ip: str | None, request_user_agent: str | None
) -> Enrichment:
    user_agent = _string(context, "userAgent")
    if user_agent is None and isinstance(request_user_agent, str):
        user_agent = request_user_agent
    agent = parse_user_agent(user_agent) if user_agent is not None else _EMPTY_USER_AGENT

    os_name, os_version = agent.os, agent.os_version
    if os_name is None:
        system = _mapping(context.get("os"))
        os_name = _string(system, "name")
        if os_name is not None and system is not None:
            os_version = _version_string(system.get("version"))

    locale = _string(context, "locale")
    timezone = _string(context, "timezone")
    return Enrichment(
        device_type=_sdk_device_type(_mapping(context.get("device"))) or agent.device_type,
        os=os_name,
        os_version=os_version,
        browser=agent.browser,
        browser_version=agent.browser_version,
        country=_country(context, request_ip),
        locale=normalize_locale(locale) if locale is not None else None,
        timezone=_timezones().get(timezone.lower()) if timezone is not None else None,
    )
