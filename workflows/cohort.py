"""One workflow per program cohort: match, (approve,) start relationships, track, close.

Matching runs in an activity; relationships start as child workflows that outlive the cohort
run (ParentClosePolicy.ABANDON), in batches, each batch recorded as `MentorshipsStarted`, so
a cohort of 10,000 pairs continues as new between batches instead of growing one history.
Relationships report their stage changes and rematch requests by signal.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.matching import (
        MatchCohortInput,
        MatchingActivities,
        RematchMenteeInput,
        RematchMenteeResult,
    )
    from domain.cohort_spec import CohortSpec, joining_problems
    from domain.cohort_state import (
        CohortStage,
        CohortState,
        evolve,
        program_terms,
        with_participant,
    )
    from events import DomainEvent
    from events import cohort as k
    from matching import (
        MatchedPair,
        MatchingResult,
        UnmatchedMentee,
        assignment_violations,
        rematch_participants,
    )
    from workflows import search_attributes as sa
    from workflows.cohort_models import (
        AddParticipant,
        ApproveMatches,
        CohortWorkflowInput,
        CohortWorkflowResult,
        DepartureTerms,
        MatchingOutcome,
        ParticipantAdded,
        ParticipantCard,
        ParticipantCardsInput,
        ParticipantCardsResult,
        ParticipantDeparture,
        ProposeRematch,
        RematchProposal,
    )
    from workflows.ids import mentorship_workflow_id
    from workflows.mentorship import MentorshipWorkflow
    from workflows.mentorship_models import (
        DEFAULT_HISTORY_LIMIT,
        CarriedGoal,
        MentorshipWorkflowInput,
        RematchRequestedSignal,
        StageChangedSignal,
    )
    from workflows.origin import Origin, timer_origin, workflow_origin
    from workflows.recording import ACTIVITY_RETRY, record_events

MATCHING_TIMEOUT = timedelta(minutes=10)
CONTINUE_WITHOUT_SPEC_COPY_PATCH = "continue-as-new-without-a-second-spec"
"""Continue as new with the spec once (in the state), not also as the launch input."""
REMATCH_PARTICIPANTS_PATCH = "rematch-with-the-participants-it-needs"
"""Send a rematch the mentors, the mentee and their reporting line, not the whole spec."""
SCORE_BREAKDOWNS_PATCH = "matching-completed-v2-score-breakdowns"
"""Record `MatchingCompleted` with each pair's score breakdown and the solver's report.

Histories from before it replay the event without them (as its version 1 is read)."""


@workflow.defn
class CohortWorkflow:
    """A program cohort from launch to close."""

    @workflow.init
    def __init__(self, request: CohortWorkflowInput) -> None:
        self._input = request
        if request.state is not None:
            self._state = request.state
        else:
            assert request.spec is not None  # the input's validator: spec or state
            self._state = CohortState(cohort_id=request.spec.cohort_id, spec=request.spec)
        self._lock = asyncio.Lock()
        # Each request with the origin its signal carried (the relationship's command).
        self._rematch_requests: list[tuple[RematchRequestedSignal, Origin | None]] = []
        self._changed = False
        self._capacities: tuple[CohortSpec, dict[str, int]] | None = None
        self._departed: set[str] = set(request.departed)

    @property
    def _stream_id(self) -> str:
        return f"cohort-{self._state.cohort_id}"

    @workflow.run
    async def run(self, request: CohortWorkflowInput) -> CohortWorkflowResult:
        """Drive the cohort until its program ends."""
        spec = self._state.spec
        workflow.upsert_search_attributes([sa.COHORT_ID.value_set(spec.cohort_id)])
        workflow.upsert_memo({"cohort_id": spec.cohort_id, "program": spec.program.name})
        if self._state.version == 0:
            await self._record(
                [
                    k.CohortLaunched(
                        cohort_id=spec.cohort_id,
                        program_name=spec.program.name,
                        starts_at=spec.program.starts_at,
                        ends_at=spec.program.ends_at,
                        participant_count=len(spec.participants),
                        mentor_count=len(spec.mentors),
                        mentee_count=len(spec.mentees),
                        require_hr_approval=spec.program.require_hr_approval,
                    )
                ]
            )
        if self._state.matching is None:
            result = await workflow.execute_activity_method(
                MatchingActivities.match_cohort,
                MatchCohortInput(spec=spec),
                start_to_close_timeout=MATCHING_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
                summary=f"match {len(spec.mentees)} mentees with {len(spec.mentors)} mentors",
            )
            explained = workflow.patched(SCORE_BREAKDOWNS_PATCH)
            await self._record([_matching_completed(result, explained=explained)])
        workflow.set_current_details(f"cohort {self._state.stage.value}")
        await workflow.wait_condition(
            lambda: self._state.stage is not CohortStage.AWAITING_APPROVAL,
            timeout_summary="waiting for HR to approve the matches",
        )
        await self._start_pending_relationships()
        await self._track_until_the_end()
        return self._result()

    # -- relationships ----------------------------------------------------------------------

    async def _start_pending_relationships(self) -> None:
        while pending := self._state.pairs_to_start()[: self._input.batch_size]:
            async with self._lock:
                stream_ids = await asyncio.gather(*(self._start_child(pair) for pair in pending))
                await self._append([k.MentorshipsStarted(stream_ids=list(stream_ids))])
            self._continue_as_new_if_long()

    async def _start_child(
        self,
        pair: k.Pair,
        rematch: int = 0,
        previous: RematchRequestedSignal | None = None,
    ) -> str:
        spec = self._state.spec
        stream_id = mentorship_workflow_id(spec.cohort_id, pair.mentee_id, rematch)
        request = MentorshipWorkflowInput(
            cohort_id=spec.cohort_id,
            mentor_id=pair.mentor_id,
            mentee_id=pair.mentee_id,
            terms=program_terms(spec),
            match_score=pair.score,
            match_reasons=list(pair.reasons),
            rematch_of=previous.stream_id if previous else None,
            mentor_capacity=self._mentor_capacities(spec).get(pair.mentor_id),
            carried_goals=list(previous.open_goals) if previous else list[CarriedGoal](),
            carried_action_items=list(previous.open_action_items) if previous else [],
            history_limit=self._input.mentorship_history_limit or DEFAULT_HISTORY_LIMIT,
        )
        # A child started before a continue-as-new or a retry already exists: that is fine.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                MentorshipWorkflow.run,
                request,
                id=stream_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=f"{pair.mentor_id} mentors {pair.mentee_id}",
            )
        return stream_id

    def _mentor_capacities(self, spec: CohortSpec) -> dict[str, int]:
        # Computed once per spec (participants can join, which replaces the spec).
        if self._capacities is None or self._capacities[0] is not spec:
            self._capacities = (spec, spec.mentor_capacities())
        return self._capacities[1]

    async def _track_until_the_end(self) -> None:
        spec = self._state.spec
        # Relationships close at the program end and then hold their surveys open for half a
        # cadence; the cohort closes after that, so its outcome counts them as closed.
        closes_at = spec.program.ends_at + spec.program.conversation_cadence
        while True:
            self._continue_as_new_if_long()
            remaining = closes_at - workflow.now()
            if remaining <= timedelta(0):
                break
            self._changed = False
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: bool(self._rematch_requests) or self._changed,
                    timeout=remaining,
                    timeout_summary=f"cohort closes at {closes_at:%Y-%m-%d %H:%M}",
                )
            while self._rematch_requests:
                request, origin = self._rematch_requests.pop(0)
                # The rematch continues the chain of the command that ended the relationship.
                token = workflow_origin.set(origin)
                try:
                    await self._rematch(request)
                finally:
                    workflow_origin.reset(token)
        async with self._lock:
            state = self._state
            await self._append(
                [
                    k.CohortClosed(
                        relationships=len(state.relationships),
                        by_stage=state.counts_by_stage(),
                        rematches=state.rematches,
                        unmatched=len(state.unmatched),
                    )
                ],
                origin=timer_origin(self._stream_id, workflow.now()),
            )

    async def _rematch(self, request: RematchRequestedSignal) -> None:
        async with self._lock:
            state = self._state
            outcome = await self._match_again(
                request.mentee_id,
                [request.previous_mentor_id],
                whole_spec=not workflow.patched(REMATCH_PARTICIPANTS_PATCH),
                summary=f"rematch {request.mentee_id}",
            )
            if outcome.pair is None:
                assert outcome.unmatched is not None
                await self._append(
                    [
                        k.RematchFailed(
                            unmatched=_unmatched(outcome.unmatched),
                            previous_stream_id=request.stream_id or None,
                        )
                    ]
                )
                return
            pair = _pair(outcome.pair)
            is_rematch = bool(request.stream_id)
            number = state.rematch_count(request.mentee_id) + 1 if is_rematch else 0
            stream_id = await self._start_child(pair, number, request if is_rematch else None)
            await self._append(
                [
                    k.MenteeRematched(
                        pair=pair,
                        stream_id=stream_id,
                        previous_stream_id=request.stream_id or None,
                    )
                ]
            )

    async def _match_again(
        self, mentee_id: str, excluded: Sequence[str], *, whole_spec: bool, summary: str
    ) -> RematchMenteeResult:
        """The matching's choice of a mentor for the mentee against the capacity left: never
        one of ``excluded``, a previous mentor of theirs, or someone away (the leaver flow)."""
        state = self._state
        return await workflow.execute_activity_method(
            MatchingActivities.rematch_mentee,
            _rematch_input(
                state.spec,
                mentee_id,
                mentor_loads=state.mentor_loads(),
                excluded_mentor_ids=sorted(
                    {*state.previous_mentors(mentee_id), *excluded, *self._departed}
                ),
                whole_spec=whole_spec,
            ),
            start_to_close_timeout=MATCHING_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            summary=summary,
        )

    # -- recording --------------------------------------------------------------------------

    def _continue_as_new_if_long(self) -> None:
        info = workflow.info()
        if (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._input.history_limit
        ) and workflow.all_handlers_finished():
            carried: dict[str, object] = {"state": self._state, "departed": sorted(self._departed)}
            if workflow.patched(CONTINUE_WITHOUT_SPEC_COPY_PATCH):
                carried["spec"] = None
            workflow.continue_as_new(self._input.model_copy(update=carried))

    async def _record(self, events: Sequence[DomainEvent]) -> None:
        async with self._lock:
            await self._append(events)

    async def _append(self, events: Sequence[DomainEvent], *, origin: Origin | None = None) -> None:
        version = self._state.version
        await record_events(self._stream_id, version, events, origin=origin)
        state = self._state
        for event in events:
            state = evolve(state, event)
        state.version = version + len(events)
        self._state = state
        self._changed = True
        started, total = len(state.relationships), len(state.approved_pairs or [])
        workflow.set_current_details(
            f"cohort {state.stage.value}: {started} relationships started of {total} approved, "
            f"{len(state.unmatched)} unmatched"
        )

    def _result(self) -> CohortWorkflowResult:
        state = self._state
        return CohortWorkflowResult(
            cohort_id=state.cohort_id,
            relationships=len(state.relationships),
            by_stage=state.counts_by_stage(),
            rematches=state.rematches,
            unmatched=len(state.unmatched),
        )

    # -- handlers ---------------------------------------------------------------------------

    @workflow.update
    async def matching_outcome(self) -> MatchingOutcome:
        """Wait until matching is done; the launch answer."""
        return await self._outcome()

    async def _outcome(self) -> MatchingOutcome:
        await workflow.wait_condition(lambda: self._state.matching is not None)
        outcome = self.matching()
        assert outcome is not None
        return outcome

    def _approved_pairs(self, request: ApproveMatches) -> tuple[list[k.Pair], list[k.Pair]]:
        matching = self._state.matching
        proposed = {pair.mentee_id: pair for pair in (matching.pairs if matching else [])}
        overrides = [
            k.Pair(
                mentor_id=o.mentor_id, mentee_id=o.mentee_id, score=0.0, reasons=["chosen by HR"]
            )
            for o in request.overrides
        ]
        for override in overrides:
            proposed[override.mentee_id] = override
        return overrides, sorted(proposed.values(), key=lambda pair: pair.mentee_id)

    @workflow.update
    async def approve_matches(self, request: ApproveMatches) -> MatchingOutcome:
        """HR accepts the matches, with overrides that must respect every hard constraint."""
        overrides, pairs = self._approved_pairs(request)
        await self._record([k.MatchesApproved(overrides=overrides, pairs=pairs)])
        return await self._outcome()

    @approve_matches.validator
    def _check_approve_matches(self, request: ApproveMatches) -> None:
        problems = self._approval_problems(request)
        if problems:
            raise _rejected(problems)

    def _approval_problems(self, request: ApproveMatches) -> list[str]:
        if self._state.stage is not CohortStage.AWAITING_APPROVAL:
            return [f"the cohort is {self._state.stage.value}, not awaiting approval"]
        _, pairs = self._approved_pairs(request)
        return assignment_violations(
            self._state.spec, [(pair.mentor_id, pair.mentee_id) for pair in pairs]
        )

    @workflow.query
    def approval_problems(self, request: ApproveMatches) -> list[str]:
        """A dry run of ``approve_matches``: every rule its validator would refuse
        ``request`` for (empty when it would be accepted). Records nothing."""
        return self._approval_problems(request)

    @workflow.update
    async def add_participant(self, request: AddParticipant) -> ParticipantAdded:
        """A late joiner: added to the cohort, and matched at once when a mentee."""
        participant = request.participant
        async with self._lock:
            self._state = self._state.model_copy(
                update={"spec": with_participant(self._state.spec, participant)}
            )
            await self._append(
                [k.ParticipantJoined(participant_id=participant.id, roles=list(participant.roles))]
            )
        if not participant.is_mentee:
            return ParticipantAdded(participant_id=participant.id)
        await workflow.wait_condition(lambda: self._state.stage is CohortStage.RUNNING)
        await self._rematch(
            RematchRequestedSignal(
                stream_id="", mentee_id=participant.id, previous_mentor_id="", reason="late joiner"
            )
        )
        unmatched = self._state.unmatched.get(participant.id)
        if unmatched is not None:
            return ParticipantAdded(
                participant_id=participant.id, unmatched_reason=unmatched.reason
            )
        return ParticipantAdded(
            participant_id=participant.id,
            stream_id=mentorship_workflow_id(self._state.cohort_id, participant.id),
        )

    @add_participant.validator
    def _check_add_participant(self, request: AddParticipant) -> None:
        problems: list[str] = []
        if self._state.stage is CohortStage.CLOSED:
            problems.append("the cohort is closed")
        problems.extend(joining_problems(self._state.spec, request.participant))
        if problems:
            raise _rejected(problems)

    @workflow.signal
    def mentorship_rematch_requested(self, request: RematchRequestedSignal) -> None:
        """A relationship ended so that its mentee is matched again."""
        self._rematch_requests.append((request, workflow_origin.get()))

    @workflow.signal
    def participant_departure(self, news: ParticipantDeparture) -> None:
        """A participant left the organisation (no rematch chooses them as a mentor while
        away) or came back."""
        if news.away:
            self._departed.add(news.person_id)
        else:
            self._departed.discard(news.person_id)

    @workflow.signal
    def mentorship_stage_changed(self, change: StageChangedSignal) -> None:
        """A relationship changed stage (kept for counts and mentor loads)."""
        relationship = self._state.relationships.get(change.stream_id)
        if relationship is not None:
            relationship.stage = change.stage

    @workflow.query
    def matching(self) -> MatchingOutcome | None:
        """The matching outcome once known (also answers after the cohort closed)."""
        matching = self._state.matching
        if matching is None:
            return None
        approved = self._state.approved_pairs
        return MatchingOutcome(
            cohort_id=self._state.cohort_id,
            awaiting_approval=self._state.stage is CohortStage.AWAITING_APPROVAL,
            pairs=list(matching.pairs),
            unmatched=list(matching.unmatched),
            total_score=matching.total_score,
            breakdowns=dict(matching.breakdowns),
            solver=matching.solver,
            approved_pairs=None if approved is None else list(approved),
        )

    @workflow.query
    def state(self) -> dict[str, object]:
        """Counts and progress (ids only)."""
        state = self._state
        return {
            "cohort_id": state.cohort_id,
            "stage": state.stage.value,
            "stream_version": state.version,
            "relationships": len(state.relationships),
            "approved_pairs": len(state.approved_pairs or []),
            "by_stage": state.counts_by_stage(),
            "unmatched": {m: u.reason for m, u in state.unmatched.items()},
            "rematches": state.rematches,
            "mentor_loads": state.mentor_loads(),
        }

    @workflow.query
    def departure_terms(self) -> DepartureTerms:
        """The program's terms for participants who leave (the leaver flow reads them)."""
        return DepartureTerms(leaver_grace_period=self._state.spec.program.leaver_grace_period)

    @workflow.update
    async def propose_rematch(self, request: ProposeRematch) -> RematchProposal:
        """The mentor a rematch of the mentee would choose now, recording nothing.

        Never a previous mentor of theirs, nor one of ``excluded_mentor_ids`` (the leaver
        flow passes the mentee's reporting line as the directory knows it now).
        """
        outcome = await self._match_again(
            request.mentee_id,
            request.excluded_mentor_ids,
            whole_spec=False,
            summary=f"propose a rematch of {request.mentee_id}",
        )
        if outcome.pair is None:
            reason = outcome.unmatched.reason if outcome.unmatched is not None else None
            return RematchProposal(unmatched_reason=reason)
        return RematchProposal(pair=_pair(outcome.pair))

    @propose_rematch.validator
    def _check_propose_rematch(self, request: ProposeRematch) -> None:
        if request.mentee_id not in {person.id for person in self._state.spec.mentees}:
            raise _rejected([f"mentee_id: {request.mentee_id!r} is not a mentee of this cohort"])

    @workflow.query
    def participant_cards(self, request: ParticipantCardsInput) -> ParticipantCardsResult:
        """Names, time zones, languages and email addresses of the asked participants, and
        the spec's notification settings (personal data: the answer goes through the payload
        codec like every other)."""
        wanted = set(request.person_ids)
        spec = self._state.spec
        return ParticipantCardsResult(
            cards={
                person.id: ParticipantCard(
                    person_id=person.id,
                    name=person.name,
                    timezone=person.timezone,
                    languages=list(person.languages),
                    email=person.email,
                )
                for person in spec.participants
                if person.id in wanted
            },
            notifications=spec.notifications,
        )


def _pair(matched: MatchedPair) -> k.Pair:
    return k.Pair(
        mentor_id=matched.mentor_id,
        mentee_id=matched.mentee_id,
        score=matched.score,
        reasons=list(matched.reasons),
    )


def _rematch_input(
    spec: CohortSpec,
    mentee_id: str,
    *,
    mentor_loads: dict[str, int],
    excluded_mentor_ids: list[str],
    whole_spec: bool,
) -> RematchMenteeInput:
    """The rematch activity's input: the participants it needs (the whole spec in runs that
    scheduled it so before `REMATCH_PARTICIPANTS_PATCH`)."""
    if whole_spec:
        return RematchMenteeInput(
            spec=spec,
            mentee_id=mentee_id,
            mentor_loads=mentor_loads,
            excluded_mentor_ids=excluded_mentor_ids,
        )
    return RematchMenteeInput(
        cohort_id=spec.cohort_id,
        program=spec.program,
        participants=rematch_participants(spec, mentee_id),
        mentee_id=mentee_id,
        mentor_loads=mentor_loads,
        excluded_mentor_ids=excluded_mentor_ids,
    )


def _matching_completed(result: MatchingResult, *, explained: bool) -> k.MatchingCompleted:
    """The engine's result as the event; ``explained`` adds what version 2 keeps (each pair's
    score breakdown and the solver's report), which runs from before it did not record."""
    event = k.MatchingCompleted(
        pairs=[_pair(matched) for matched in result.pairs],
        unmatched=[_unmatched(unmatched) for unmatched in result.unmatched],
        total_score=result.total_score,
    )
    if not explained:
        return event
    return event.model_copy(
        update={
            "breakdowns": {
                matched.mentee_id: k.ScoreBreakdown(**matched.breakdown.model_dump())
                for matched in result.pairs
            },
            "solver": k.SolverReport(**result.solver.model_dump()),
        }
    )


def _unmatched(unmatched: UnmatchedMentee) -> k.Unmatched:
    return k.Unmatched(
        mentee_id=unmatched.mentee_id,
        reason_code=unmatched.reason_code.value,
        reason=unmatched.reason,
    )


def _rejected(problems: list[str]) -> ApplicationError:
    return ApplicationError(
        "; ".join(problems), problems, type="CommandRejected", non_retryable=True
    )
