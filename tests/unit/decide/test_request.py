"""Checking decide request bodies: every malformed part is a 400 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmile.decide.request import MAX_EVENTS, parse_decide_request
from firstmile.errors import InvalidRequest


def test_a_valid_body_fills_the_ids_into_its_events() -> None:
    request = parse_decide_request(
        {"userId": 42, "context": {"locale": "fr"}, "events": [{"event": "Step Completed"}]}
    )
    assert request.user_id == "42"
    assert request.events == ({"event": "Step Completed", "userId": "42", "type": "track"},)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], None),
        ({}, "userId"),
        ({"userId": ""}, "userId"),
        ({"userId": "x" * 201}, "userId"),
        ({"userId": True}, "userId"),
        ({"anonymousId": {"a": 1}}, "anonymousId"),
        ({"userId": "u", "context": []}, "context"),
        (
            {"userId": "u", "context": {"a": [[[[[[[[[[1]]]]]]]]]]}},
            "context",
        ),
        ({"userId": "u", "context": {str(i): i for i in range(201)}}, "context"),
        ({"userId": "u", "events": {}}, "events"),
        ({"userId": "u", "events": [1]}, "events[0]"),
        ({"userId": "u", "events": [{}] * (MAX_EVENTS + 1)}, "events"),
        ({"userId": "u", "user": "x"}, "user"),
    ],
)
def test_malformed_bodies_name_the_field(body: Any, field: str | None) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_decide_request(body)
    assert caught.value.field == field
    assert caught.value.message.strip()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(
    st.dictionaries(
        st.sampled_from(["userId", "anonymousId", "context", "events", "x"]), json_values
    )
)
def test_any_body_is_accepted_or_refused_cleanly(body: dict[str, Any]) -> None:
    try:
        request = parse_decide_request(body)
    except InvalidRequest:
        return
    assert request.user_id is not None or request.anonymous_id is not None
