"""``mentorflow demo``: a small cohort end to end, through the public HTTP API, for real.

Starts the local stack and every service (worker, relay, projector, command consumer, API)
in this process, launches `examples/cohort-small.yaml` on an accelerated calendar (seconds
instead of weeks), and plays HR and the participants through the API with bearer tokens:
training, goals, conversations with action plans, check-ins, one missed conversation, a
review cycle, closing surveys. It prints the cohort dashboard (from the read models), then
HR forgets one mentee on request (crypto-shredding): their plan reads ``[erased]`` where their
words were, with the same counts, and the dashboard does not change. It ends with where to
look in the Temporal UI and how to tail the events. It fails (exit 1) when the dashboard does
not show every pair closed, or forgetting leaves anything readable or changes a figure.
"""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from devstack.mailbox import MAIL_DIR_NAME, StoredMail, list_mail
from devstack.stack import LocalStack, StackAddresses, StackConfig
from events.personal import ERASED
from eventstore import create_pool
from mentorflow.api.tokens import Role, add_token
from mentorflow.cli.console import console_url, create_link
from mentorflow.services import run_api, serve_all
from mentorflow.settings import Settings, load_settings, state_dir

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "cohort-small.yaml"
CADENCE = timedelta(seconds=20)  # the survey window is half of it: 10 s
GRACE = timedelta(seconds=5)
ROUNDS = 5
MODULES = ("active-listening", "constructive-feedback", "career-goal-setting")


class DemoFailed(RuntimeError):
    """The demo did not reach its expected end."""


@dataclass
class Pair:
    """One relationship as the demo plays it."""

    mentorship_id: str
    mentor_id: str
    mentee_id: str
    open_items: list[str] = field(default_factory=list)
    goals: list[str] = field(default_factory=list)


async def run_demo(console: Console, *, stop: bool) -> dict[str, Any]:
    """Run the demo and return the final dashboard.

    Raises:
        DemoFailed: When a step fails or the pairs do not all close.
    """
    local_stack = LocalStack(StackConfig.from_settings(load_settings(), state_dir()))
    console.rule("mentorflow demo")
    with console.status("Starting the local stack (Temporal, NATS JetStream, PostgreSQL)…"):
        addresses = await local_stack.up()
    settings = load_settings()
    console.print(
        f"Stack up: Temporal {addresses.temporal_address}, UI {addresses.temporal_ui_url}"
    )
    demo_started = datetime.now(UTC)
    services_stop = asyncio.Event()
    services = asyncio.create_task(serve_all(settings, services_stop, extra=[run_api]))
    try:
        dashboard, pair = await _play(console, settings, services)
        await _print_mail(console, settings, demo_started)
        _print_where_to_look(console, addresses, dashboard["cohort_id"])
        await _print_console_links(console, settings, pair, running=not stop)
        if not stop:
            console.print("The console keeps running with the demo's cohort; Ctrl-C stops it.")
            await _until_interrupted(services)
    finally:
        services_stop.set()
        await asyncio.wait_for(services, timeout=60)
        if stop:
            await local_stack.down()
            console.print("Stopped the servers the demo started.")
    return dashboard


async def _play(
    console: Console, settings: Settings, services: asyncio.Task[None]
) -> tuple[dict[str, Any], Pair]:
    spec = _accelerated_spec(datetime.now(UTC))
    tokens = _tokens(settings, spec)
    base_url = f"http://{settings.api_host}:{settings.api_port}"
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        await _until_ready(http, services)
        api = Api(http, tokens)
        launched = await api.call("hr", "POST", "/cohorts", json=spec)
        _print_launch(console, launched)
        pairs = [
            Pair(f"mentorship-{spec['cohort_id']}-{p['mentee_id']}", p["mentor_id"], p["mentee_id"])
            for p in launched["outcome"]["pairs"]
        ]
        ends_at = datetime.fromisoformat(spec["program"]["ends_at"])
        plays = [
            _relationship(api, pair, ends_at, skip_round=1 if i == 0 else None)
            for i, pair in enumerate(pairs)
        ]
        await asyncio.gather(*plays, _review_cycle(console, api, spec["cohort_id"], pairs))
        console.print(f"All {len(pairs)} relationships closed their surveys.")
        dashboard = await _final_dashboard(api, spec["cohort_id"], len(pairs))
        _print_dashboard(console, dashboard)
        await _forget_one(console, api, spec["cohort_id"], pairs[-1], dashboard)
        page = await http.get("/")
        if page.status_code != 200 or "text/html" not in page.headers.get("content-type", ""):
            raise DemoFailed(f"the web console at / answered {page.status_code}")
    return dashboard, pairs[0]


FIGURES = (  # the dashboard's figures: printed, and unchanged by forgetting a person
    "pairs_by_stage",
    "onboarding_completion",
    "conversations_held",
    "conversations_missed",
    "cadence_adherence",
    "action_plan_completion",
    "average_satisfaction",
    "surveys_received",
    "escalations",
)


async def _forget_one(
    console: Console, api: Api, cohort_id: str, pair: Pair, dashboard: dict[str, Any]
) -> None:
    """HR forgets a mentee: words become "[erased]", figures stay (checked, not just shown)."""
    mentee = f"mentee:{pair.mentee_id}"
    path = f"/people/{pair.mentee_id}/development-plan"
    before = await _closed_plan(api, mentee, path)
    outcome = await api.call("hr", "POST", f"/people/{pair.mentee_id}/forget")
    after = await api.call(mentee, "GET", path)
    words = [goal["description"] for part in after["relationships"] for goal in part["goals"]]
    console.print(
        f"Forgot {pair.mentee_id} on request: key deleted, "
        f"{outcome['read_model_values_erased']} read-model rows erased; "
        f"their goals now read {escape(repr(words))}."
    )
    again = await api.call("hr", "GET", f"/cohorts/{cohort_id}/dashboard")
    problems = []
    if _plan_counts(after) != _plan_counts(before):
        problems.append(f"plan counts changed: {_plan_counts(before)} -> {_plan_counts(after)}")
    if set(words) != {ERASED}:
        problems.append(f"goals still readable: {words}")
    changed = [key for key in FIGURES if again.get(key) != dashboard.get(key)]
    if changed:
        problems.append(f"dashboard figures changed: {changed}")
    if problems:
        raise DemoFailed("forgetting: " + "; ".join(problems))
    console.print("Dashboard unchanged; the events remain, their personal values unreadable.")


async def _closed_plan(api: Api, who: str, path: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        response = await api.attempt(who, "GET", path)
        if response.is_success:
            plan: dict[str, Any] = response.json()
            if all(part["stage"] == "closed" for part in plan["relationships"]):
                return plan
        if time.monotonic() > deadline:
            raise DemoFailed(f"GET {path}: the plan did not show the relationship closed")
        await asyncio.sleep(0.5)


def _plan_counts(plan: dict[str, Any]) -> list[tuple[int, ...]]:
    return [
        (
            len(part["goals"]),
            len(part["action_items"]),
            len(part["feedback"]),
            part["conversations_held"],
        )
        for part in plan["relationships"]
    ]


def _accelerated_spec(now: datetime) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    spec["cohort_id"] = f"demo-{now:%Y%m%d-%H%M%S}"
    spec["program"].update(
        {
            "name": "Engineering Mentorship (demo calendar)",
            "starts_at": now.isoformat(),
            # After the last round, the next conversation would fall due after the end date.
            "ends_at": (now + ROUNDS * CADENCE + CADENCE / 2).isoformat(),
            "conversation_cadence": f"PT{int(CADENCE.total_seconds())}S",
            "grace_period": f"PT{int(GRACE.total_seconds())}S",
            "onboarding_window": "PT60S",
            "review_cycles": [],
        }
    )
    return spec


def _tokens(settings: Settings, spec: dict[str, Any]) -> dict[str, str]:
    tokens = {"hr": add_token(settings.tokens_file, Role.HR_ADMIN)}
    for person in spec["participants"]:
        for role in person["roles"]:
            tokens[f"{role}:{person['id']}"] = add_token(
                settings.tokens_file, Role(role), person["id"]
            )
    return tokens


class Api:
    """The public API, called as HR or as a participant."""

    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self._http = http
        self._tokens = tokens

    async def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        """One request; a non-2xx answer fails the demo with the API's error."""
        response = await self.attempt(who, method, path, **kwargs)
        if response.is_success:
            return response.json()
        raise DemoFailed(f"{method} {path} as {who}: {response.status_code} {response.text}")

    async def attempt(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request whose answer the caller judges."""
        headers = {"Authorization": f"Bearer {self._tokens[who]}"}
        while True:
            response = await self._http.request(method, path, headers=headers, **kwargs)
            if response.status_code != 429:  # over the token's write rate: wait as told
                return response
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))


async def _until_ready(http: httpx.AsyncClient, services: asyncio.Task[None]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if services.done():
            services.result()  # a service failed: raise its error
            raise DemoFailed("the services stopped before the API was ready")
        try:
            if (await http.get("/readyz")).is_success:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.5)
    raise DemoFailed("the API did not become ready within 120 s")


async def _relationship(api: Api, pair: Pair, ends_at: datetime, skip_round: int | None) -> None:
    base = f"/mentorships/{pair.mentorship_id}"
    mentor, mentee = f"mentor:{pair.mentor_id}", f"mentee:{pair.mentee_id}"
    await _until_found(api, mentor, base)
    for who, person in ((mentor, pair.mentor_id), (mentee, pair.mentee_id)):
        for module in MODULES:
            await api.call(
                who, "POST", f"{base}/training", json={"person_id": person, "module": module}
            )
    for horizon, text in (("short", "Lead a design review"), ("long", "Grow into a staff role")):
        goal = await api.call(
            mentee,
            "POST",
            f"{base}/goals",
            json={"horizon": horizon, "description": text, "motivation": "visible impact"},
        )
        pair.goals.append(goal["goal_id"])
    await _converse(api, pair, mentor)
    for round_number in range(1, ROUNDS + 1):
        await asyncio.sleep((CADENCE - timedelta(seconds=2)).total_seconds())
        if round_number == skip_round:
            await asyncio.sleep((GRACE + timedelta(seconds=3)).total_seconds())  # a missed one
        # No round starts within half a cadence of the end: its calls would still be running
        # when the short survey window (also half a cadence) opens and closes.
        if datetime.now(UTC) >= ends_at - CADENCE / 2:
            break
        for item_id in pair.open_items:
            await api.call(mentee, "POST", f"{base}/action-items/{item_id}/complete")
        pair.open_items.clear()
        await _converse(api, pair, mentee)
    await asyncio.sleep(max((ends_at - datetime.now(UTC)).total_seconds(), 0))
    # Both answer at once, as soon as the survey opens (422 until then): the window is short.
    await asyncio.gather(
        *(
            _with_retries(
                api,
                who,
                "POST",
                f"{base}/feedback",
                json={
                    "person_id": person,
                    "satisfaction": satisfaction,
                    "value": 5,
                    "would_recommend": True,
                    "comment": "Worth the time.",
                },
                interval=0.25,
            )
            for who, person, satisfaction in (
                (mentor, pair.mentor_id, 5),
                (mentee, pair.mentee_id, 4),
            )
        )
    )


async def _until_found(api: Api, who: str, path: str) -> None:
    """Wait until the relationship's workflow started and its read model exists."""
    deadline = time.monotonic() + 60
    while (response := await api.attempt(who, "GET", path)).status_code == 404:
        if time.monotonic() > deadline:
            raise DemoFailed(f"{path} did not appear within 60 s")
        await asyncio.sleep(0.5)
    if not response.is_success:
        raise DemoFailed(f"GET {path} as {who}: {response.status_code} {response.text}")


async def _converse(api: Api, pair: Pair, who: str) -> None:
    """One side logs the conversation; each side gives its own feedback to the other."""
    now = datetime.now(UTC)
    mentor, mentee = f"mentor:{pair.mentor_id}", f"mentee:{pair.mentee_id}"
    logged = await api.call(
        who,
        "POST",
        f"/mentorships/{pair.mentorship_id}/conversations",
        json={
            "held_at": now.isoformat(),
            "goal_ids": pair.goals,
            "skills": ["stakeholder-management"],
            "notes": "(private to the relationship)",
            "action_items": [
                {
                    "owner": "mentee",
                    "description": "Draft the proposal",
                    "due_at": (now + CADENCE / 2).isoformat(),
                }
            ],
        },
    )
    pair.open_items.extend(logged["action_item_ids"])
    feedback = f"/mentorships/{pair.mentorship_id}/conversations/{logged['conversation_number']}"
    await api.call(
        mentor,
        "POST",
        f"{feedback}/feedback",
        json={
            "preparation": 4,
            "follow_through": 5,
            "comment": "Clear structure; name the trade-offs earlier.",
        },
    )
    await api.call(
        mentee,
        "POST",
        f"{feedback}/feedback",
        json={
            "usefulness": 5,
            "listening": 4,
            "clarity": 4,
            "comment": "More concrete examples would help.",
        },
    )


async def _review_cycle(console: Console, api: Api, cohort_id: str, pairs: list[Pair]) -> None:
    await asyncio.sleep((2 * CADENCE + timedelta(seconds=4)).total_seconds())
    started = await api.call("hr", "POST", "/review-cycles", json={"cohort_id": cohort_id})
    cycle_id = started["cycle_id"]
    console.print(f"HR started review cycle {cycle_id} for {len(started['signalled'])} pairs")
    for pair in pairs:
        await _with_retries(
            api,
            f"mentee:{pair.mentee_id}",
            "POST",
            f"/mentorships/{pair.mentorship_id}/review-summaries/{cycle_id}/approve",
            json={},
        )
    console.print("Every mentee approved and shared their career-development summary")


async def _with_retries(
    api: Api, who: str, method: str, path: str, *, interval: float = 1.0, **kwargs: Any
) -> Any:
    """Retry while the relationship is not there yet (a summary being drafted, surveys opening)."""
    deadline = time.monotonic() + 60
    while True:
        response = await api.attempt(who, method, path, **kwargs)
        if response.is_success:
            return response.json()
        if response.status_code != 422 or time.monotonic() > deadline:
            raise DemoFailed(f"{method} {path} as {who}: {response.status_code} {response.text}")
        await asyncio.sleep(interval)


async def _final_dashboard(api: Api, cohort_id: str, pairs: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        dashboard: dict[str, Any] = await api.call("hr", "GET", f"/cohorts/{cohort_id}/dashboard")
        if dashboard["pairs_by_stage"].get("closed", 0) == pairs and pairs > 0:
            return dashboard
        if time.monotonic() > deadline:
            raise DemoFailed(f"not every pair closed: {dashboard['pairs_by_stage']}")
        await asyncio.sleep(1)


def _print_launch(console: Console, launched: dict[str, Any]) -> None:
    outcome = launched["outcome"]
    table = Table(title=f"Cohort {launched['cohort_id']}: {len(outcome['pairs'])} pairs")
    for column in ("mentee", "mentor", "score", "why"):
        table.add_column(column, overflow="fold")
    for pair in outcome["pairs"]:
        table.add_row(
            pair["mentee_id"],
            pair["mentor_id"],
            f"{pair['score']:.2f}",
            "; ".join(pair["reasons"][:2]),
        )
    console.print(table)
    for unmatched in outcome["unmatched"]:
        console.print(f"[yellow]unmatched[/] {unmatched['mentee_id']}: {unmatched['reason']}")


def _print_dashboard(console: Console, dashboard: dict[str, Any]) -> None:
    table = Table(title=f"Dashboard of {dashboard['cohort_id']}", show_header=False)
    for key in ("pairs", *FIGURES, "rematches"):
        if key in dashboard:
            table.add_row(key.replace("_", " "), str(dashboard[key]))
    console.print(table)


async def _print_mail(console: Console, settings: Settings, since: datetime) -> None:
    """What the notifier sent during the demo, once nothing due is left in its outbox (the
    SMTP sink's mailbox, as `mentorflow mail list` shows it); messages deferred to the end of
    someone's quiet hours are counted.

    Raises:
        DemoFailed: What was due was not sent within a minute, or nothing was sent.
    """
    pool = await create_pool(settings.database)
    try:
        deadline = time.monotonic() + 60
        while await pool.fetchval(
            "SELECT count(*) FROM notifications.outbox "
            "WHERE state = 'pending' AND next_attempt_at <= now()"
        ):
            if time.monotonic() > deadline:
                raise DemoFailed("the notifier did not send what was due within a minute")
            await asyncio.sleep(0.5)
        dead, deferred = await pool.fetchrow(
            "SELECT count(*) FILTER (WHERE state = 'dead'), "
            "count(*) FILTER (WHERE state = 'pending') FROM notifications.outbox"
        ) or (0, 0)
    finally:
        await pool.close()
    mails = [mail for mail in list_mail(state_dir() / MAIL_DIR_NAME) if mail.received_at >= since]
    if not mails:
        raise DemoFailed("the notifier sent no message")
    console.rule("Messages sent (the local SMTP sink)")
    table = Table("subject", "messages", "recipients")
    by_subject: dict[str, list[StoredMail]] = {}
    for mail in mails:
        by_subject.setdefault(mail.subject, []).append(mail)
    for subject, group in sorted(by_subject.items()):
        recipients = {address for mail in group for address in mail.rcpt_tos}
        table.add_row(escape(subject), str(len(group)), str(len(recipients)))
    console.print(table)
    console.print(
        f"{len(mails)} messages, {dead} dead letters, {deferred} waiting for the end of "
        "someone's quiet hours. Read them: mentorflow mail list, mentorflow mail show ID"
    )


async def _print_console_links(
    console: Console, settings: Settings, pair: Pair, *, running: bool
) -> None:
    """The console's address and single-use sign-in links for HR and one pair."""
    base = console_url(settings)
    if not running:
        console.print(
            f"Web console: {base} stopped with the demo; run `make demo` without --stop "
            "to keep it running and sign in."
        )
        return
    console.rule("Web console")
    console.print(f"Web console: {base}/ (sign-in links work once, within 15 minutes)")
    for who, role, person in (
        ("HR", Role.HR_ADMIN, None),
        (f"mentor {pair.mentor_id}", Role.MENTOR, pair.mentor_id),
        (f"mentee {pair.mentee_id}", Role.MENTEE, pair.mentee_id),
    ):
        token = await create_link(settings, role, person)
        console.print(f"  {who}: {base}/sign-in?token={token}")
    console.print(
        "More links: mentorflow login-link PERSON_ID, or mentorflow login-link --role hr_admin"
    )


async def _until_interrupted(services: asyncio.Task[None]) -> None:
    """Keep the console (and every service) running until Ctrl-C or SIGTERM."""
    interrupted = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, interrupted.set)
    waiting = asyncio.create_task(interrupted.wait())
    try:
        await asyncio.wait({waiting, services}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signal_number)


def _print_where_to_look(console: Console, addresses: StackAddresses, cohort_id: str) -> None:
    query = f'MentorflowCohortId="{cohort_id}"'
    if addresses.temporal_ui_url:
        link = f"{addresses.temporal_ui_url}/namespaces/default/workflows?query={quote(query)}"
        console.print(f"Temporal UI: {link}")
    console.print(f'Search-attribute query: {query} AND MentorflowStage="closed"')
    console.print(
        "Tail the events: mentorflow events tail --subject 'mentorflow.events.mentorship.>'"
    )
