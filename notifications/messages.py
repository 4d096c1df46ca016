"""Which messages an event means, to whom, rendered: `plan`.

Pure: given the event, the pair as the notifier knows it after the event (`PairState`), the
cohort's contacts and the clock, it returns the outbox messages to record and the digest
items to keep. Nothing here sends or stores anything.

Personal data. The notifier holds no data key: the personal text of events (goals, notes,
feedback, action items' wording) reaches it sealed, and no message carries any of it. A
message names the two people of a relationship to each other (as the console does) and
links to the console page where each person reads their own text. Private notes never
leave the console. HR messages and webhooks carry ids and counts only.

Who gets what (the README's "Notifications" section lists the same):

=========================  ==========================  =============  ===================
event                      to                          category       calendar
=========================  ==========================  =============  ===================
MentorshipMatched          both                        match          -
OnboardingStarted          both                        onboarding     -
ConversationReminderDue    both                        reminders      the series (REQUEST)
ConversationHeld / Missed  both, when the rhythm       calendar /     the series update
                           moved; a miss nudges both   nudges
ActionItemCheckInDue       the item's owner            check_ins      -
MentorshipEscalated        HR contacts, webhooks;      escalations    -
                           then their digest
ReviewSummaryDrafted       the mentee                  review         -
ReviewSummaryShared /      HR contacts, webhooks       review_        -
Withheld                                               outcomes
ClosureStarted             both                        surveys        CANCEL
MentorshipPaused/Resumed   both                        notices        the series update
MentorshipClosed           both                        notices        -
DepartureStarted /         HR contacts of the cohorts  notices        -
Concluded                  concerned, webhooks
ReportingLineConflict-     HR contacts, webhooks       notices        -
Found
=========================  ==========================  =============  ===================

Categories in `COMPLIANCE` (the match, review consent, status notices) are sent whatever the
person's channel preference and carry no ``List-Unsubscribe``; the others are skipped for a
person whose channel is ``none``. Quiet hours defer any message to a person or HR contact
to the end of their quiet hours, in their own time zone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from events import DomainEvent
from events import departure as d
from events import mentorship as m
from notifications.calendar import ConversationSeries, invitation
from notifications.directory import CohortContacts, HrContact, PersonContact
from notifications.models import Channel, OutboxMessage
from notifications.pairs import PairState, SeriesChange

COMPLIANCE = frozenset({"match", "review", "notices"})
"""Categories sent whatever the channel preference, without ``List-Unsubscribe``."""

NOTIFYING = (
    m.MentorshipMatched,
    m.OnboardingStarted,
    m.ConversationReminderDue,
    m.ConversationMissed,
    m.ActionItemCheckInDue,
    m.MentorshipEscalated,
    m.ReviewSummaryDrafted,
    m.ReviewSummaryShared,
    m.ReviewSummaryWithheld,
    m.ClosureStarted,
    m.MentorshipPaused,
    m.MentorshipResumed,
    m.MentorshipClosed,
)
"""Events that mean a message whatever the calendar series does (`plan` handles these)."""


def notifies(event: DomainEvent) -> bool:
    """Whether ``event`` means a message by itself (else only if it changes the series)."""
    return isinstance(event, NOTIFYING)


_ROLE = {"mentor": "mentor", "mentee": "mentee"}
_CLOSURE_WORDS = {
    "completed": "the program ended",
    "rematch": "a rematch was requested",
    "mentor_left": "the mentor left",
    "mentee_left": "the mentee left",
    "mismatch": "it was not a good match",
}


@dataclass(frozen=True, slots=True)
class Links:
    """Where the console is, for the links in messages.

    Attributes:
        console: The console's base URL (``https://mentoring.example.com``).
        from_address: The sender address (organizer of invitations).
    """

    console: str
    from_address: str

    @property
    def domain(self) -> str:
        """The sender address's domain (calendar UIDs)."""
        return self.from_address.rpartition("@")[2] or "localhost"

    def relationship(self, stream_id: str) -> str:
        """The relationship's console page."""
        return f"{self.console.rstrip('/')}/relationships/{stream_id}"

    def preferences(self) -> str:
        """The console page of one's notification preferences."""
        return f"{self.console.rstrip('/')}/preferences"

    def at_risk(self, cohort_id: str) -> str:
        """HR's page of a cohort's pairs at risk."""
        return f"{self.console.rstrip('/')}/hr/cohorts/{cohort_id}/at-risk"


@dataclass(frozen=True, slots=True)
class DigestItem:
    """An escalation waiting for an HR contact's digest."""

    recipient: str
    address: str
    timezone: str
    frequency: str
    cohort_id: str
    line: str


@dataclass(slots=True)
class Plan:
    """What an event means: messages to record, digest items to keep."""

    messages: list[OutboxMessage] = field(default_factory=list)
    digest_items: list[DigestItem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Occasion:
    """The event being planned for, and when."""

    event_id: uuid.UUID
    stream_id: str
    event: DomainEvent
    now: datetime


def plan(
    occasion: Occasion,
    pair: PairState,
    change: SeriesChange | None,
    contacts: CohortContacts,
    links: Links,
) -> Plan:
    """The messages ``occasion`` means for the pair (in its state after the event)."""
    result = Plan()
    if not pair.known:
        return result
    writer = _Writer(occasion, pair, contacts, links, result)
    event = occasion.event
    match event:
        case m.MentorshipMatched():
            writer.both("match", lambda side: ("Your mentoring match", {"reasons": event.reasons}))
        case m.OnboardingStarted():
            writer.both(
                "onboarding",
                lambda side: (
                    "Your mentoring onboarding checklist",
                    {"deadline": event.deadline, "modules": event.training_modules},
                ),
            )
        case m.ConversationReminderDue():
            writer.both(
                "reminders",
                lambda side: ("Your next career conversation", {"due": event.due_at}),
                template="reminder",
                calendar=change or "REQUEST",
            )
        case m.ConversationMissed():
            writer.both(
                "nudges",
                lambda side: (
                    "A career conversation was missed",
                    {
                        "due": event.due_at,
                        "misses": event.consecutive_misses,
                        "next_due": event.next_conversation_due,
                    },
                ),
                template="missed",
                calendar=change,
            )
        case m.ActionItemCheckInDue():
            writer.one(
                event.owner,
                "check_ins",
                "Time to check in on an action item",
                {"due": event.due_at},
                template="check_in",
            )
        case m.MentorshipEscalated():
            writer.hr(
                "escalations",
                "A mentoring relationship was escalated",
                {"misses": event.consecutive_misses},
                digest=True,
            )
        case m.ReviewSummaryDrafted():
            writer.one(
                "mentee",
                "review",
                "Your mentoring summary awaits your consent",
                {"cycle": event.cycle_id, "respond_by": event.respond_by},
                template="review_request",
            )
        case m.ReviewSummaryShared() | m.ReviewSummaryWithheld():
            writer.hr(
                "review_outcomes",
                f"Review cycle {event.cycle_id}: a mentoring summary was "
                + ("shared" if isinstance(event, m.ReviewSummaryShared) else "not shared"),
                {"cycle": event.cycle_id, "shared": isinstance(event, m.ReviewSummaryShared)},
                template="review_outcome",
            )
        case m.ClosureStarted():
            writer.both(
                "surveys",
                lambda side: (
                    "How did your mentoring go?",
                    {"closes": event.survey_closes_at},
                ),
                template="survey",
                calendar=change,
            )
        case m.MentorshipPaused():
            writer.both(
                "notices",
                lambda side: ("Your mentoring is paused", {"at": event.paused_at}),
                template="paused",
                calendar=change,
            )
        case m.MentorshipResumed():
            writer.both(
                "notices",
                lambda side: ("Your mentoring continues", {"due": event.next_conversation_due}),
                template="resumed",
                calendar=change,
            )
        case m.MentorshipClosed():
            writer.both(
                "notices",
                lambda side: (
                    "Your mentoring has closed",
                    {"reason": _CLOSURE_WORDS.get(event.reason, event.reason)},
                ),
                template="closed",
            )
        case m.ConversationHeld() if change is not None:
            writer.both(
                "calendar",
                lambda side: ("Your conversation series was updated", {"due": _next_due(pair)}),
                template="calendar_update",
                calendar=change,
            )
    return result


PEOPLE_CHANGES = (d.DepartureStarted, d.DepartureConcluded, d.ReportingLineConflictFound)
"""Events of the leaver and mover flows (person streams): HR notices, `plan_people_change`."""

_OUTCOME_WORDS = {
    "resumed": "resumed",
    "closed": "closed",
    "rematch_requested": "closed, and the mentee is being matched again",
    "unchanged": "had moved on already, left as it is",
}


def cohorts_of(event: DomainEvent) -> list[str]:
    """The cohorts whose HR hears of a leaver or mover event."""
    if isinstance(event, d.ReportingLineConflictFound):
        return [event.cohort_id]
    if isinstance(event, d.DepartureStarted | d.DepartureConcluded):
        return sorted({relationship.cohort_id for relationship in event.relationships})
    return []


def people_of(event: DomainEvent) -> list[str]:
    """The participants a leaver or mover event is about (the contacts route asks for some)."""
    if isinstance(event, d.ReportingLineConflictFound):
        return sorted({event.person_id, event.mentor_id, event.mentee_id})
    if isinstance(event, d.DepartureStarted | d.DepartureConcluded):
        return [event.person_id]
    return []


def plan_people_change(
    occasion: Occasion, contacts: Iterable[CohortContacts], links: Links
) -> Plan:
    """HR's notice of a leaver or mover event, once per HR contact of the cohorts concerned
    (ids and dates only), to their webhooks too."""
    event = occasion.event
    result = Plan()
    if isinstance(event, d.DepartureStarted):
        subject = f"A participant left: {len(event.relationships)} relationship(s) paused"
        body = render(
            "departure_started",
            {
                "person": event.person_id,
                "at": event.deactivated_at,
                "relationships": event.relationships,
            },
        )
    elif isinstance(event, d.DepartureConcluded):
        returned = event.outcome == "returned"
        subject = "A participant came back" if returned else "A participant's relationships closed"
        body = render(
            "departure_concluded",
            {
                "person": event.person_id,
                "returned": returned,
                "relationships": event.relationships,
                "outcomes": _OUTCOME_WORDS,
            },
        )
    elif isinstance(event, d.ReportingLineConflictFound):
        subject = "A mentor is now in their mentee's reporting line"
        body = render(
            "reporting_line_conflict",
            {
                "mentor": event.mentor_id,
                "mentee": event.mentee_id,
                "relationship": event.stream_id,
                "cohort": event.cohort_id,
                "line": event.reporting_line,
                "proposed": event.proposed_mentor_id,
                "score": event.proposed_score,
                "reason": event.unmatched_reason,
            },
        )
    else:
        return result
    sent: set[str] = set()
    for cohort in contacts:
        link = (links.at_risk(cohort.cohort_id), "Open the cohort's pairs at risk")
        for contact in cohort.hr_contacts:
            if contact.id in sent:
                continue
            sent.add(contact.id)
            result.messages.append(
                _message(
                    occasion,
                    recipient=contact.id,
                    address=contact.email,
                    subject=subject,
                    body=body,
                    category="notices",
                    link=link,
                    preferences=None,
                    not_before=_after_quiet_hours(contact, occasion.now),
                )
            )
        for number, webhook in enumerate(cohort.webhooks):
            result.messages.append(
                OutboxMessage(
                    event_id=occasion.event_id,
                    recipient=f"webhook-{cohort.cohort_id}-{number + 1}",
                    channel=Channel.WEBHOOK,
                    address=webhook.url,
                    subject=subject,
                    text_body=f"{body.strip()}\n{link[0]}",
                    category="notices",
                )
            )
    return result


def _next_due(pair: PairState) -> datetime | None:
    return None if pair.series is None else pair.series.first_due


class _Writer:
    """Renders the messages of one occasion."""

    def __init__(
        self,
        occasion: Occasion,
        pair: PairState,
        contacts: CohortContacts,
        links: Links,
        result: Plan,
    ) -> None:
        self.occasion, self.pair, self.contacts = occasion, pair, contacts
        self.links, self.result = links, result

    def both(
        self,
        category: str,
        content: Any,
        *,
        template: str | None = None,
        calendar: SeriesChange | None = None,
    ) -> None:
        for side in ("mentor", "mentee"):
            subject, values = content(side)
            self.one(side, category, subject, values, template=template, calendar=calendar)

    def one(
        self,
        side: str,
        category: str,
        subject: str,
        values: dict[str, Any],
        *,
        template: str | None = None,
        calendar: SeriesChange | None = None,
    ) -> None:
        person = self.contacts.person(self.pair.person(side))
        if person is None or person.email is None:
            return
        if person.channel == "none" and category not in COMPLIANCE:
            return
        other_side = "mentee" if side == "mentor" else "mentor"
        other = self.contacts.person(self.pair.person(other_side))
        zone = person.timezone
        context = {
            "name": person.name,
            "side": side,
            "other_name": other.name if other is not None else f"your {other_side}",
            "other_role": _ROLE[other_side],
            "program": "your mentoring program",
            **{key: _local(value, zone) for key, value in values.items()},
        }
        ics = None
        if calendar is not None and self.pair.series is not None:
            ics = self._invitation(calendar, person, other, anchor=self._anchor_zone(side))
            context["calendar"] = True
            context["method"] = calendar
        unsubscribable = category not in COMPLIANCE
        self.result.messages.append(
            _message(
                self.occasion,
                recipient=person.person_id,
                address=person.email,
                subject=subject,
                body=render(template or category, context),
                category=category,
                link=(self.links.relationship(self.occasion.stream_id), "Open in mentorflow"),
                preferences=self.links.preferences() if unsubscribable else None,
                calendar=ics,
                not_before=_after_quiet_hours(person, self.occasion.now),
            )
        )

    def hr(
        self,
        category: str,
        subject: str,
        values: dict[str, Any],
        *,
        template: str | None = None,
        digest: bool = False,
    ) -> None:
        context = {"relationship": self.occasion.stream_id, "cohort": self.pair.cohort_id, **values}
        body = render(template or "escalation", context)
        for contact in self.contacts.hr_contacts:
            self.result.messages.append(
                _message(
                    self.occasion,
                    recipient=contact.id,
                    address=contact.email,
                    subject=subject,
                    body=body,
                    category=category,
                    link=(
                        self.links.at_risk(self.pair.cohort_id),
                        "Open the cohort's pairs at risk",
                    ),
                    preferences=self.links.preferences(),
                    not_before=_after_quiet_hours(contact, self.occasion.now),
                )
            )
            if digest and contact.digest != "off":
                self.result.digest_items.append(
                    DigestItem(
                        recipient=contact.id,
                        address=contact.email,
                        timezone=contact.timezone,
                        frequency=contact.digest,
                        cohort_id=self.pair.cohort_id,
                        line=body.strip(),
                    )
                )
        for number, webhook in enumerate(self.contacts.webhooks):
            self.result.messages.append(
                OutboxMessage(
                    event_id=self.occasion.event_id,
                    recipient=f"webhook-{number + 1}",
                    channel=Channel.WEBHOOK,
                    address=webhook.url,
                    subject=subject,
                    text_body=f"{body.strip()}\n{self.links.at_risk(self.pair.cohort_id)}",
                    category=category,
                )
            )

    def _anchor_zone(self, side: str) -> str:
        """The zone the pair's series recurs in: the mentee's (the program is theirs).

        Both copies of the series must describe the same instants, or the two people
        would meet an hour apart after one of their clocks changed; each calendar shows the
        series in its owner's own zone, and each email gives its reader's local time.
        """
        mentee = self.contacts.person(self.pair.mentee_id)
        if mentee is not None:
            return mentee.timezone
        person = self.contacts.person(self.pair.person(side))
        return person.timezone if person is not None else "UTC"

    def _invitation(
        self,
        method: SeriesChange,
        person: PersonContact,
        other: PersonContact | None,
        *,
        anchor: str,
    ) -> str:
        series = self.pair.series
        assert series is not None
        assert self.pair.cadence is not None
        attendees = tuple(
            contact.email for contact in (person, other) if contact is not None and contact.email
        )
        other_name = other.name if other is not None else "your mentoring partner"
        built = invitation(
            ConversationSeries(
                relationship_id=self.occasion.stream_id,
                summary=f"Mentoring conversation with {other_name}",
                description=(
                    "Your career conversation. End it with an action plan and log it in "
                    f"mentorflow: {self.links.relationship(self.occasion.stream_id)}"
                ),
                organizer=self.links.from_address,
                attendees=attendees,
                first_due=series.first_due,
                cadence=self.pair.cadence,
                until=series.until,
                sequence=series.sequence,
                url=self.links.relationship(self.occasion.stream_id),
            ),
            anchor,
            method,
            domain=self.links.domain,
            stamp=self.occasion.now,
        )
        return built.decode()


def _message(
    occasion: Occasion,
    *,
    recipient: str,
    address: str,
    subject: str,
    body: str,
    category: str,
    link: tuple[str, str],
    preferences: str | None,
    calendar: str | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    text = f"{body.rstrip()}\n\n{link[1]}: {link[0]}\n"
    if preferences is not None:
        text += f"\nNotification preferences: {preferences}\n"
    headers = {}
    if preferences is not None:
        headers["List-Unsubscribe"] = f"<{preferences}?unsubscribe={category}>"
    return OutboxMessage(
        event_id=occasion.event_id,
        recipient=recipient,
        address=address,
        subject=subject,
        text_body=text,
        category=category,
        html_body=_html(subject, body, link, preferences),
        calendar=calendar,
        headers=headers,
        not_before=not_before,
    )


def _after_quiet_hours(contact: PersonContact | HrContact, now: datetime) -> datetime | None:
    if contact.quiet_hours is None:
        return None
    allowed = contact.quiet_hours.rule().next_allowed(now, contact.timezone)
    return allowed if allowed > now else None


def _local(value: Any, zone: str) -> Any:
    if isinstance(value, datetime):
        return local_time(value, zone)
    return value


def local_time(at: datetime, zone: str) -> str:
    """``Tue 16 Mar 2027, 09:00 (Europe/Berlin)``: an instant as its reader's clock shows it."""
    return f"{at.astimezone(ZoneInfo(zone)):%a %d %b %Y, %H:%M} ({zone})"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("notifications", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )


def render(template: str, context: dict[str, Any]) -> str:
    """The text of ``template`` (``notifications/templates/{template}.txt.j2``)."""
    return _environment().get_template(f"{template}.txt.j2").render(**context)


def _html(subject: str, body: str, link: tuple[str, str], preferences: str | None) -> str:
    paragraphs = [
        [line for line in block.splitlines() if line.strip()]
        for block in body.strip().split("\n\n")
    ]
    return (
        _environment()
        .get_template("layout.html.j2")
        .render(
            subject=subject,
            paragraphs=[p for p in paragraphs if p],
            link=link[0],
            link_label=link[1],
            preferences=preferences,
        )
    )


def digest_text(lines: Iterable[str]) -> str:
    """The body of a digest of ``lines``."""
    items = list(lines)
    return render("digest", {"count": len(items), "lines": items})
