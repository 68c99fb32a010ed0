"""The shape of the onboarding sections (``catalog``, ``flows``, ``checklists``, ``rules``,
``defaults``, ``limits``) as strict pydantic models. Cross-references are checked in
:mod:`firstmile.config.onboarding_build`.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import Field

from firstmile.config.schema import Duration, Slug, Text, _Strict
from firstmile.profiles.content import SHOWN_KEPT

# Example lines for problems about these fields (merged into schema.EXAMPLES).
ONBOARDING_EXAMPLES: Final[dict[str, str]] = {
    "catalog": "catalog: [{id: welcome, kind: message, title: Welcome, body: Hi!}]",
    "flows": "flows: [{key: setup, name: Set up, steps: [{item: create_project}]}]",
    "checklists": "checklists: [{key: start, name: Get started, items: [invite_team]}]",
    "rules": "rules: [{key: fr, priority: 10, when: {country: FR}, then: {set_welcome: hi_fr}}]",
    "defaults": "defaults: {welcome: welcome, flow: setup, tutorial_depth: standard}",
    "limits": "limits: {max_shown: 3, per: 1d}",
    "id": "id: create_project",
    "kind": "kind: step",
    "title": "title: Create your first project",
    "body": "body: \"Hi {{ traits.first_name | default('there') }}\"",
    "locales": "locales: {fr: {title: Bienvenue, body: Bonjour}}",
    "tags": "tags: [setup, data]",
    "completion_event": "completion_event: Project Created",
    "prerequisites": "prerequisites: [create_project]",
    "frequency": "frequency: {max: 2, per: 7d}",
    "per": "per: 7d",
    "start": "start: 2026-12-01T00:00:00Z",
    "end": "end: 2027-01-01T00:00:00Z",
    "steps": "steps: [{item: create_project}, {item: invite_team, skippable: true}]",
    "item": "item: create_project",
    "skippable": "skippable: true",
    "items": "items: [invite_team, connect_data]",
    "priority": "priority: 100",
    "when": "when: {device_type: mobile}",
    "then": "then: {set_welcome: welcome_mobile}",
    "stop": "stop: true",
    "welcome": "welcome: welcome",
    "flow": "flow: setup",
    "tutorial_depth": "tutorial_depth: guided",
    "checklist": "checklist: getting_started",
    "tips": "tips: [keyboard_shortcuts]",
    "max_shown": "max_shown: 3",
    "recommendations": "recommendations: 3",
    "position": "position: 0",
    "before": "before: invite_team",
    "after": "after: create_project",
}


class TextIn(_Strict):
    title: Text
    body: str = ""


class FrequencyIn(_Strict):
    max: Annotated[int, Field(ge=1, le=SHOWN_KEPT)]
    per: Duration | None = None  # absent: ever


class ContentIn(_Strict):
    id: Slug
    kind: Literal["step", "tutorial", "message", "checklist_item", "feature_tip"]
    title: Text
    body: str = ""
    locales: dict[str, TextIn] = Field(default_factory=dict)
    tags: list[Text] = Field(default_factory=list)
    completion_event: Text | None = None
    prerequisites: list[Slug] = Field(default_factory=list)
    once: bool = False
    frequency: FrequencyIn | None = None
    start: Text | None = None
    end: Text | None = None


class FlowStepIn(_Strict):
    item: Slug
    condition: dict[str, Any] | None = None
    skippable: bool = False
    completion_event: Text | None = None


class FlowIn(_Strict):
    key: Slug
    name: Text
    steps: Annotated[list[FlowStepIn], Field(min_length=1)]


class ChecklistIn(_Strict):
    key: Slug
    name: Text
    items: Annotated[list[Slug], Field(min_length=1)]


class PlacementIn(_Strict):
    item: Slug
    before: Slug | None = None
    after: Slug | None = None
    position: Annotated[int, Field(ge=0)] | None = None


class RuleIn(_Strict):
    key: Slug
    description: str = ""
    priority: int
    when: dict[str, Any] = Field(default_factory=dict)  # {}: every user
    then: dict[str, Any]
    stop: bool = False


class DefaultsIn(_Strict):
    welcome: Slug | None = None
    flow: Slug | None = None
    tutorial_depth: Literal["none", "light", "standard", "guided"] = "standard"
    checklist: Slug | None = None
    tips: list[Slug] = Field(default_factory=list)


class LimitsIn(_Strict):
    max_shown: Annotated[int, Field(ge=1)] | None = None
    per: Duration = "1d"
    tips: Annotated[int, Field(ge=0, le=50)] = 3
    recommendations: Annotated[int, Field(ge=0, le=50)] = 3
