"""One person's fortnight: visits, sign-up, sessions, and the messages each sends.

A :class:`Timeline` scripts what each persona does (see
:mod:`firstmile.demo.personas` for the numbers behind it) and leaves the making of the
messages to :class:`~firstmile.demo.channels.Channels`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta

from firstmile.demo.catalog import (
    ADMIN_FEATURES,
    ADVANCED_FEATURES,
    APP_PAGES,
    BASIC_FEATURES,
    COMPANIES,
    INTEGRATIONS,
    MARKETING_PAGES,
    PERSONAL_DOMAINS,
    ROLES,
    STEPS,
    TUTORIALS,
    company_domain,
)
from firstmile.demo.channels import Channels, Session
from firstmile.demo.countries import Country
from firstmile.demo.devices import MOBILE_DEVICES, POWER_DEVICES, Device
from firstmile.demo.model import BrowserRequest, Person, iso
from firstmile.demo.personas import (
    SESSION_GAP_HOURS,
    SIGNUP_BROWSING_SHARE,
    Persona,
    draw_later_session_count,
)
from firstmile.demo.world import World
from firstmile.types import JSONObject

__all__ = ["SESSION_BREAK", "Timeline"]

# A gap that surely ends a session (firstmile's default session timeout is 30 min).
SESSION_BREAK = timedelta(minutes=45)


def _ascii(text: str) -> str:
    # Email local parts are ASCII in practice: "Lefèvre" signs up as "lefevre".
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class Timeline:
    """The timeline of one person: sessions, and the messages each sends."""

    def __init__(
        self,
        world: World,
        *,
        index: int,
        persona: Persona,
        country: Country,
        consent: dict[str, bool],
        send: Channels,
    ) -> None:
        self.world = world
        self.rng = world.rng
        self.index = index
        self.persona = persona
        self.country = country
        self.consent = consent
        self.send = send
        self.anonymous_ids: list[str] = []
        self.browser_requests: list[BrowserRequest] = []
        self.second_requests: list[BrowserRequest] = []
        self.previous_user_id: str | None = None
        self.second_device: Device | None = None

    def build(self) -> Person:
        world, rng, send = self.world, self.rng, self.send
        if self.persona is Persona.VISITOR:
            self.visitor()
        else:
            # Sign-up a day or more into the window (room for an earlier visit) and two
            # hours or more before its end (room for the sign-up session).
            signup = (
                world.start
                + timedelta(days=1)
                + (world.latest - world.start - timedelta(days=1, hours=2)) * rng.random()
            )
            anonymous_id = self.before_signup(signup)
            self.signup(signup, anonymous_id, world.user_id())
        return Person(
            index=self.index,
            persona=self.persona,
            user_id=send.user_id,
            previous_user_id=self.previous_user_id,
            anonymous_ids=tuple(self.anonymous_ids),
            country=self.country,
            ip=send.ip,
            locale=send.locale,
            timezone=send.timezone,
            device=send.device,
            second_device=self.second_device,
            consent=dict(self.consent),
            sdk_client=send.sdk_client,
            browser_requests=tuple(self.browser_requests),
            sdk_messages=tuple(send.sdk_messages),
            second_device_requests=tuple(self.second_requests),
        )

    # -- helpers -----------------------------------------------------------------------------

    def new_anonymous_id(self) -> str:
        anonymous_id = self.world.uuid4()
        self.anonymous_ids.append(anonymous_id)
        return anonymous_id

    def browse(
        self,
        session: Session,
        pages: Sequence[tuple[str, str]],
        *,
        tracks: Sequence[tuple[str, JSONObject]] = (),
        spacing: tuple[float, float] = (0.5, 4.0),
    ) -> None:
        """One anonymous visit on the person's own browser."""
        requests, _ = self.send.browser_session(session, pages, tracks=tracks, spacing=spacing)
        self.browser_requests.extend(requests)

    def gap(self) -> timedelta:
        """Time between two sessions: hours for engaged people, days for hesitant ones."""
        return self.world.hours(*SESSION_GAP_HOURS[self.persona])

    def step(self, at: datetime, number: int) -> datetime:
        """The onboarding checklist's step ``number`` (from 1) is done."""
        return self.send.track(at, "Completed Step", step=number, step_name=STEPS[number - 1])

    # -- before sign-up ----------------------------------------------------------------------

    def visitor(self) -> None:
        world, rng = self.world, self.rng
        anonymous_id = self.new_anonymous_id()
        at = world.start + (world.latest - world.start) * rng.random() * 0.7
        for _ in range(rng.randint(1, 3)):
            if at >= world.latest:
                break
            pages = [("/", "Home"), *rng.sample(MARKETING_PAGES, rng.randint(1, 3))]
            tracks: list[tuple[str, JSONObject]] = []
            if rng.random() < 0.4:
                tracks.append(("Viewed Pricing Calculator", {"seats": rng.randint(1, 50)}))
            requests, end = self.send.browser_session(
                Session(at, self.send.device, anonymous_id), pages, tracks=tracks
            )
            if end >= world.latest:
                break
            self.browser_requests.extend(requests)
            at = end + self.gap()
        if not self.browser_requests:
            # Always at least one visit, squeezed in before `now`.
            self.browse(
                Session(world.latest - timedelta(minutes=30), self.send.device, anonymous_id),
                [("/", "Home"), ("/pricing", "Pricing")],
                spacing=(0.5, 2),
            )

    def before_signup(self, signup: datetime) -> str | None:
        """Anonymous browsing by the browser that will sign up, if any."""
        rng, world = self.rng, self.world
        if rng.random() >= SIGNUP_BROWSING_SHARE[self.persona]:
            return None  # signed up straight from an invitation or an ad landing page
        anonymous_id = self.new_anonymous_id()
        earlier = signup - timedelta(days=rng.uniform(1, 5))
        if rng.random() < 0.3 and earlier > world.start:
            self.browse(
                Session(earlier, self.send.device, anonymous_id),
                [("/", "Home"), *rng.sample(MARKETING_PAGES, 2)],
            )
        pages = [("/", "Home"), rng.choice(MARKETING_PAGES[:2]), ("/signup", "Sign up")]
        # The same visit ends with the sign-up: it starts a few minutes before it.
        start = signup - timedelta(minutes=4 * len(pages) + 6)
        self.browse(
            Session(start, self.send.device, anonymous_id),
            pages,
            tracks=[("Clicked Sign Up", {"location": pages[1][0]})],
            spacing=(0.5, 4),
        )
        return anonymous_id

    # -- sign-up and after -------------------------------------------------------------------

    def traits(self, signup: datetime) -> JSONObject:
        rng = self.rng
        first = rng.choice(self.country.first_names)
        last = rng.choice(self.country.last_names)
        company = rng.choice(COMPANIES)
        business = self.persona in (Persona.POWER_USER, Persona.TEAM_ADMIN) or rng.random() < 0.3
        local = _ascii(f"{first}.{last}".replace(" ", ""))
        domain = company_domain(company) if business else rng.choice(PERSONAL_DOMAINS)
        # Forms deliver emails with stray spaces and capitals; firstmile trims and lowercases.
        email = rng.choice(
            (
                f"{local}@{domain}",
                f" {local}@{domain.upper()}",
                f"{local.lower()}@{domain} ",
                f"  {local.upper()}@{domain}",
            )
        )
        traits: JSONObject = {
            "email": email,
            "name": f"{first} {last}",
            "plan": "trial",
            "role": rng.choice(ROLES),
            "country": rng.choice(self.country.spellings),
            "createdAt": iso(signup),
        }
        if business:
            traits["company"] = {"name": company, "employee_count": rng.choice((8, 25, 120, 900))}
        if self.persona is Persona.TEAM_ADMIN:
            traits["role"] = "Admin"
            traits["team_size"] = str(rng.randint(3, 40))  # a form field: a numeric string
        return traits

    def signup(self, signup: datetime, anonymous_id: str | None, user_id: str) -> None:
        rng, world, send = self.rng, self.world, self.send
        send.user_id = user_id
        traits = self.traits(signup)
        alias_later = (
            self.persona in (Persona.POWER_USER, Persona.TEAM_ADMIN) and rng.random() < 0.03
        )
        if alias_later:
            # An older app version used the email as the user id; it is renamed later.
            self.previous_user_id = str(traits["email"]).strip().lower()
            send.user_id = self.previous_user_id
        send.sdk("identify", signup, anonymous_id=anonymous_id, traits=traits)
        at = signup + timedelta(seconds=rng.randint(2, 20))
        at = send.track(at, "Signed Up", method=rng.choice(("email", "google", "github")))
        at = self.signup_session(at)

        sessions = draw_later_session_count(rng, self.persona)
        device_switch = (
            self.persona in (Persona.POWER_USER, Persona.CASUAL_MOBILE)
            and not alias_later
            and rng.random() < 0.18
        )
        done = 0
        while done < sessions:
            start = at + max(SESSION_BREAK, self.gap())
            # Room for the longest session (about 35 min) before `latest`.
            if start >= world.latest - timedelta(minutes=60):
                break
            if alias_later and done == sessions // 2:
                send.alias(start, user_id)
                start += timedelta(seconds=5)
            at = self.later_session(start, done)
            done += 1
        if alias_later and send.user_id != user_id:
            # No session came after sign-up: the rename happens on its own.
            send.alias(min(at + SESSION_BREAK, world.latest - timedelta(minutes=1)), user_id)
        if device_switch:
            self.other_device(at)

    def signup_session(self, at: datetime) -> datetime:
        rng, send = self.rng, self.send
        if self.persona is Persona.POWER_USER:
            at = self.step(at, 1)
            at = self.step(at, 2)
            at = send.track(at, "Used Feature", feature=rng.choice(ADVANCED_FEATURES))
            if rng.random() < 0.5:
                at = send.track(at, "Dismissed Checklist", steps_completed=2)
            return at
        if self.persona is Persona.CASUAL_MOBILE:
            at = self.step(at, 1)
            if rng.random() < 0.5:
                at = send.track(at, "Viewed Tutorial", tutorial=TUTORIALS[0], percent=50)
            return at
        if self.persona is Persona.TEAM_ADMIN:
            company = send.sdk_messages[0].traits.get("company")
            name = company.get("name") if isinstance(company, dict) else None
            workspace = str(name or "My team")
            group_id = "grp_" + workspace.lower().replace(" ", "-") + f"-{self.index}"
            at = send.track(at, "Created Workspace", workspace_name=workspace)
            send.sdk(
                "group",
                at,
                group_id=group_id,
                traits={"name": workspace, "plan": "trial", "employees": str(rng.randint(5, 500))},
            )
            at += self.world.minutes(0.2, 1)
            at = self.step(at, 1)
            for _ in range(rng.randint(1, 4)):
                at = self.invite(at)
            return self.step(at, 3)
        # A hesitant trialist: signs up, looks around a little, leaves.
        if rng.random() < 0.5:
            at = self.step(at, 1)
        return at

    def invite(self, at: datetime) -> datetime:
        rng = self.rng
        colleague = _ascii(rng.choice(self.country.first_names)).lower()
        return self.send.track(
            at,
            "Invited Teammate",
            invitee_email=f"{colleague}@{company_domain(rng.choice(COMPANIES))}",
            invitee_role=rng.choice(("member", "member", "admin", "viewer")),
        )

    def later_session(self, at: datetime, number: int) -> datetime:
        rng, send = self.rng, self.send
        if self.persona is Persona.POWER_USER:
            at = send.page(at, *rng.choice(APP_PAGES))
            for _ in range(rng.randint(1, 4)):
                at = send.track(at, "Used Feature", feature=rng.choice(ADVANCED_FEATURES))
            if rng.random() < 0.3:
                at = send.track(at, "Created Project", template=rng.choice(("blank", "sales")))
            if number == 0 and rng.random() < 0.5:
                at = send.track(at, "Viewed Tutorial", tutorial=TUTORIALS[3], percent=100)
            return at
        if self.persona is Persona.CASUAL_MOBILE:
            at = send.page(at, "/app", "Home")
            for _ in range(rng.randint(0, 2)):
                at = send.track(at, "Used Feature", feature=rng.choice(BASIC_FEATURES))
            return at
        if self.persona is Persona.TEAM_ADMIN:
            at = send.page(at, *rng.choice(APP_PAGES))
            if rng.random() < 0.5:
                at = self.invite(at)
            if rng.random() < 0.5:
                at = send.track(at, "Connected Integration", integration=rng.choice(INTEGRATIONS))
            at = send.track(at, "Used Feature", feature=rng.choice(ADMIN_FEATURES))
            if number == 1 and rng.random() < 0.4:
                at = send.track(at, "Upgraded Plan", from_plan="trial", to_plan="team", seats="5")
                send.sdk("identify", at, traits={"plan": "team"})
                at += self.world.minutes(0.1, 1)
            return at
        # Hesitant: one late look at the pricing page and a tutorial.
        at = send.page(at, "/pricing", "Pricing")
        return send.track(at, "Viewed Tutorial", tutorial=TUTORIALS[0], percent=20)

    def other_device(self, last: datetime) -> None:
        """Browse anonymously on another device, then log in there (a profile merge)."""
        world, rng, send = self.world, self.rng, self.send
        start = last + max(SESSION_BREAK, self.gap())
        if start >= world.latest - timedelta(minutes=20):
            start = last + SESSION_BREAK
        if start >= world.latest - timedelta(minutes=20):
            return  # no time left for another visit
        device = (
            rng.choice(MOBILE_DEVICES)
            if send.device.kind == "desktop"
            else rng.choice(POWER_DEVICES)
        )
        features = ADVANCED_FEATURES if self.persona is Persona.POWER_USER else BASIC_FEATURES
        requests, _ = send.browser_session(
            Session(start, device, self.new_anonymous_id()),
            [("/", "Home"), ("/login", "Log in")],
            login=send.user_id,
            tracks=[("Used Feature", {"feature": rng.choice(features)})],
            spacing=(0.3, 2),
        )
        self.second_device = device
        self.second_requests.extend(requests)
