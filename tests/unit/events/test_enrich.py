"""Tests for firstmile.events.enrich: real user agents, IP rules, context shapes."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmile.events.enrich import (
    UserAgentInfo,
    _enrich,
    country_for_ip,
    enrich,
    parse_user_agent,
)
from firstmile.events.model import Enrichment
from firstmile.types import JSON

IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
)
ANDROID_FIREFOX_PHONE = "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0"
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
ANDROID_FIREFOX_TABLET = "Mozilla/5.0 (Android 4.4; Tablet; rv:41.0) Gecko/41.0 Firefox/41.0"
KINDLE_FIRE = (
    "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Silk/124.3.1 like Chrome/124.0.6367.219 Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
WINDOWS_EDGE = WINDOWS_CHROME + " Edg/124.0.2478.80"
MACOS_FIREFOX = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"
)
MACOS_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
LINUX_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
UBUNTU_FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
CHROMEOS = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLEBOT_SMARTPHONE = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.6367.201 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
HEADLESS_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36"
)
SAMSUNG_TV = (
    "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 "
    "(KHTML, like Gecko) 85.0.4183.93/6.0 TV Safari/537.36"
)
LG_TV = (
    "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 WebAppManager"
)
FIRE_TV = (
    "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7233; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/108.0.5359.160 Mobile Safari/537.36"
)
ANDROID_TV = (
    "Mozilla/5.0 (Linux; Android 11; SHIELD Android TV Build/RQ1A.210105.003; wv) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 "
    "Mobile Safari/537.36"
)
CHROMECAST = (
    "Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/91.0.4472.225 Safari/537.36 CrKey/1.56.500000 DeviceType/AndroidTV"
)
ROKU = "Roku/DVP-9.10 (519.10E04111A)"
XBOX = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041"
)
WINDOWS_PHONE = (
    "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; "
    "ARM; Touch; NOKIA; Lumia 920)"
)
IOS_APP = "MyApp/1.0 (iPhone; iOS 17.0; Scale/3.00)"
DALVIK = "Dalvik/2.1.0 (Linux; U; Android 12; SM-G991B Build/SP1A.210812.016)"
CURL = "curl/8.4.0"
ANALYTICS_PYTHON = "analytics-python/2.4.0"


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (IPHONE_SAFARI, UserAgentInfo("mobile", "iOS", "17.4", "Mobile Safari", "17.4")),
        (
            ANDROID_CHROME_PHONE,
            UserAgentInfo("mobile", "Android", "14", "Chrome Mobile", "124.0.0.0"),
        ),
        (
            ANDROID_FIREFOX_PHONE,
            UserAgentInfo("mobile", "Android", "14", "Firefox Mobile", "125.0"),
        ),
        (ANDROID_TABLET, UserAgentInfo("tablet", "Android", "13", "Chrome", "124.0.0.0")),
        (
            ANDROID_FIREFOX_TABLET,
            UserAgentInfo("tablet", "Android", "4.4", "Firefox Mobile", "41.0"),
        ),
        (KINDLE_FIRE, UserAgentInfo("tablet", "Android", "9", "Amazon Silk", "124.3.1")),
        (IPAD, UserAgentInfo("tablet", "iOS", "16.6", "Mobile Safari", "16.6")),
        (WINDOWS_CHROME, UserAgentInfo("desktop", "Windows", "10", "Chrome", "124.0.0.0")),
        (WINDOWS_EDGE, UserAgentInfo("desktop", "Windows", "10", "Edge", "124.0.2478.80")),
        (MACOS_FIREFOX, UserAgentInfo("desktop", "macOS", "14.4", "Firefox", "125.0")),
        (MACOS_SAFARI, UserAgentInfo("desktop", "macOS", "10.15.7", "Safari", "17.4")),
        (LINUX_CHROME, UserAgentInfo("desktop", "Linux", None, "Chrome", "124.0.0.0")),
        (UBUNTU_FIREFOX, UserAgentInfo("desktop", "Ubuntu", None, "Firefox", "125.0")),
        (CHROMEOS, UserAgentInfo("desktop", "ChromeOS", "14541.0.0", "Chrome", "124.0.0.0")),
        (GOOGLEBOT, UserAgentInfo("bot", None, None, "Googlebot", "2.1")),
        (GOOGLEBOT_SMARTPHONE, UserAgentInfo("bot", "Android", "6.0.1", "Googlebot", "2.1")),
        (BINGBOT, UserAgentInfo("bot", None, None, "bingbot", "2.0")),
        (HEADLESS_CHROME, UserAgentInfo("bot", "Linux", None, "HeadlessChrome", "124.0.0")),
        (SAMSUNG_TV, UserAgentInfo("tv", "Tizen", "6.0", "Safari", None)),
        (LG_TV, UserAgentInfo("tv", "Web0S", None, "Chrome", "79.0.3945.79")),
        (
            FIRE_TV,
            UserAgentInfo("tv", "Android", "9", "Chrome Mobile WebView", "108.0.5359.160"),
        ),
        (
            ANDROID_TV,
            UserAgentInfo("tv", "Android", "11", "Chrome Mobile WebView", "120.0.6099.230"),
        ),
        (
            CHROMECAST,
            UserAgentInfo("tv", "Chromecast Linux", "1.56.500000", "Chrome", "91.0.4472.225"),
        ),
        (ROKU, UserAgentInfo("tv", "Roku", "9.10", "Roku", "9.10")),
        (XBOX, UserAgentInfo("other", "Windows", "10", "Edge", "18.19041")),
        (WINDOWS_PHONE, UserAgentInfo("mobile", "Windows Phone", "8.0", "IE Mobile", "10.0")),
        (IOS_APP, UserAgentInfo("mobile", "iOS", "17.0", "Mobile Safari UI/WKWebView", None)),
        (DALVIK, UserAgentInfo("mobile", "Android", "12", "Android", "12")),
        (CURL, UserAgentInfo("other", None, None, "curl", "8.4.0")),
        (ANALYTICS_PYTHON, UserAgentInfo("other", None, None, None, None)),
        ("asdf qwer", UserAgentInfo("other", None, None, None, None)),
        ("\x00\x01\ufffd", UserAgentInfo("other", None, None, None, None)),
        ("x" * 5000, UserAgentInfo("other", None, None, None, None)),
        ("", UserAgentInfo()),
        ("   ", UserAgentInfo()),
    ],
)
def test_parse_user_agent(user_agent: str, expected: UserAgentInfo) -> None:
    assert parse_user_agent(user_agent) == expected


@given(st.text(max_size=300))
def test_parse_user_agent_never_raises(user_agent: str) -> None:
    info = parse_user_agent(user_agent)
    assert info.device_type in {None, "desktop", "mobile", "tablet", "bot", "tv", "other"}


# --- country_for_ip -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("8.8.8.8", "US"),
        (" 8.8.8.8 ", "US"),
        ("1.0.16.1", "JP"),
        ("::ffff:8.8.8.8", "US"),
        ("2001:4860:4860::8888", "US"),
        # never looked up
        ("10.1.2.3", None),
        ("172.16.0.1", None),
        ("192.168.1.10", None),
        ("100.64.0.1", None),  # carrier-grade NAT
        ("127.0.0.1", None),
        ("169.254.1.1", None),
        ("0.0.0.0", None),
        ("255.255.255.255", None),
        ("224.0.0.1", None),
        ("239.255.255.250", None),
        ("240.0.0.1", None),
        ("192.0.2.1", None),  # documentation
        ("::1", None),
        ("::", None),
        ("fe80::1", None),
        ("fe80::1%eth0", None),
        ("fc00::1", None),
        ("ff02::1", None),
        ("2001:db8::1", None),
        ("::ffff:192.168.1.1", None),
        # not addresses
        ("", None),
        ("localhost", None),
        ("8.8.8.8:443", None),
        ("8.8.8.8, 10.0.0.1", None),
        ("256.1.1.1", None),
        ("1.2.3", None),
    ],
)
def test_country_for_ip(ip: str, expected: str | None) -> None:
    assert country_for_ip(ip) == expected


@given(st.one_of(st.text(max_size=50), st.ip_addresses().map(str)))
def test_country_for_ip_never_raises(ip: str) -> None:
    code = country_for_ip(ip)
    assert code is None or (len(code) == 2 and code.isupper())


# --- enrich -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "kwargs", "expected"),
    [
        ({}, {}, Enrichment()),
        (
            {"userAgent": IPHONE_SAFARI, "ip": "8.8.8.8", "locale": "en-US"},
            {},
            Enrichment("mobile", "iOS", "17.4", "Mobile Safari", "17.4", "US", "en-US"),
        ),
        # context.userAgent wins over the request's; the request's is the fallback
        (
            {"userAgent": IPAD},
            {"request_user_agent": WINDOWS_CHROME},
            Enrichment("tablet", "iOS", "16.6", "Mobile Safari", "16.6"),
        ),
        (
            {},
            {"request_user_agent": WINDOWS_CHROME},
            Enrichment("desktop", "Windows", "10", "Chrome", "124.0.0.0"),
        ),
        (
            {"userAgent": 42},
            {"request_user_agent": WINDOWS_CHROME},
            Enrichment("desktop", "Windows", "10", "Chrome", "124.0.0.0"),
        ),
        (
            {"userAgent": "  "},
            {"request_user_agent": LINUX_CHROME},
            Enrichment("desktop", "Linux", None, "Chrome", "124.0.0.0"),
        ),
        # SDK device types win over the user agent
        ({"device": {"type": "ios"}}, {}, Enrichment(device_type="mobile")),
        ({"device": {"type": "android"}}, {}, Enrichment(device_type="mobile")),
        ({"device": {"type": "iOS", "model": "iPad13,1"}}, {}, Enrichment(device_type="tablet")),
        ({"device": {"type": "ipados"}}, {}, Enrichment(device_type="tablet")),
        ({"device": {"type": "tablet"}}, {}, Enrichment(device_type="tablet")),
        ({"device": {"type": "tvos"}}, {}, Enrichment(device_type="tv")),
        ({"device": {"type": "android-tv"}}, {}, Enrichment(device_type="tv")),
        (
            {"device": {"type": "android"}},
            {"request_user_agent": CURL},
            Enrichment("mobile", None, None, "curl", "8.4.0"),
        ),
        (
            {"device": {"type": "fridge"}, "userAgent": MACOS_SAFARI},
            {},
            Enrichment("desktop", "macOS", "10.15.7", "Safari", "17.4"),
        ),
        # context.os is the fallback when the user agent names no OS
        (
            {"device": {"type": "android"}, "os": {"name": "Android", "version": "14"}},
            {"request_user_agent": "okhttp/4.9.0"},
            Enrichment("mobile", "Android", "14", "okhttp", "4.9.0"),
        ),
        (
            {"os": {"name": "iOS", "version": 17}},
            {},
            Enrichment(os="iOS", os_version="17"),
        ),
        (
            {"os": {"name": "Linux", "version": "6.1"}, "userAgent": WINDOWS_CHROME},
            {},
            Enrichment("desktop", "Windows", "10", "Chrome", "124.0.0.0"),
        ),
        ({"os": {"version": "14"}}, {}, Enrichment()),
        ({"os": {"name": "Android", "version": True}}, {}, Enrichment(os="Android")),
        # country: public context.ip, then the request IP, then location.country
        ({"ip": "8.8.8.8"}, {"request_ip": "1.0.16.1"}, Enrichment(country="US")),
        ({"ip": "192.168.0.1"}, {"request_ip": "1.0.16.1"}, Enrichment(country="JP")),
        ({"ip": "junk"}, {"request_ip": "1.0.16.1"}, Enrichment(country="JP")),
        ({}, {"request_ip": "1.0.16.1"}, Enrichment(country="JP")),
        (
            {"ip": "10.0.0.1", "location": {"country": "France"}},
            {"request_ip": "127.0.0.1"},
            Enrichment(country="FR"),
        ),
        ({"location": {"country": "Narnia"}}, {}, Enrichment()),
        ({"location": {"country": 250}}, {}, Enrichment()),
        ({"location": "France"}, {}, Enrichment()),
        # locale and timezone
        ({"locale": "en_gb"}, {}, Enrichment(locale="en-GB")),
        ({"locale": "gibberish!"}, {}, Enrichment()),
        ({"timezone": "America/New_York"}, {}, Enrichment(timezone="America/New_York")),
        ({"timezone": " america/new_york "}, {}, Enrichment(timezone="America/New_York")),
        ({"timezone": "UTC"}, {}, Enrichment(timezone="UTC")),
        ({"timezone": "Mars/Olympus_Mons"}, {}, Enrichment()),
        ({"timezone": "../../etc/passwd"}, {}, Enrichment()),
        ({"timezone": "+02:00"}, {}, Enrichment()),
        # malformed shapes are ignored
        (
            {
                "device": ["ios"],
                "os": "iOS",
                "location": None,
                "ip": 8,
                "locale": ["en"],
                "timezone": {"name": "UTC"},
                "userAgent": None,
            },
            {},
            Enrichment(),
        ),
    ],
)
def test_enrich(
    context: Mapping[str, object], kwargs: dict[str, str], expected: Enrichment
) -> None:
    assert enrich(context, **kwargs) == expected


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["ios", "android", "iPad8,1", "8.8.8.8", "10.0.0.1", "en_us", "UTC", "UK"]),
    st.sampled_from([IPHONE_SAFARI, WINDOWS_CHROME, GOOGLEBOT, ""]),
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.one_of(
                st.sampled_from(["type", "model", "name", "version", "country"]),
                st.text(max_size=5),
            ),
            children,
            max_size=4,
        ),
    ),
    max_leaves=15,
)
_CONTEXT_KEYS = st.sampled_from(
    ["userAgent", "ip", "device", "os", "location", "locale", "timezone", "library", "page"]
)
_CONTEXTS = st.dictionaries(st.one_of(_CONTEXT_KEYS, st.text(max_size=8)), _JSON, max_size=8)


@given(
    _CONTEXTS,
    st.one_of(st.none(), st.text(max_size=20), st.ip_addresses().map(str)),
    st.one_of(st.none(), st.text(max_size=40), st.sampled_from([IPAD, ROKU])),
)
def test_enrich_never_raises(
    context: dict[str, JSON], request_ip: str | None, request_user_agent: str | None
) -> None:
    result = enrich(context, request_ip=request_ip, request_user_agent=request_user_agent)
    assert isinstance(result, Enrichment)
    assert result.device_type in {None, "desktop", "mobile", "tablet", "bot", "tv", "other"}
    assert result.country is None or (len(result.country) == 2 and result.country.isupper())


_FLAT_CONTEXTS = st.dictionaries(
    st.sampled_from(["userAgent", "ip", "locale", "timezone", "library"]), _SCALARS, max_size=5
)


@given(
    _FLAT_CONTEXTS,
    st.one_of(st.none(), st.sampled_from(["8.8.8.8", "10.0.0.1", "not an ip"])),
    st.one_of(st.none(), st.sampled_from([IPAD, ROKU, ""])),
)
def test_memoized_enrichment_equals_the_enrichment(
    context: dict[str, JSON], request_ip: str | None, request_user_agent: str | None
) -> None:
    # Contexts without device, os or location objects are served from the memo.
    for _ in range(2):  # computed, then remembered
        memoized = enrich(context, request_ip=request_ip, request_user_agent=request_user_agent)
        assert memoized == _enrich(context, request_ip, request_user_agent)
