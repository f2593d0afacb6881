"""Events the boards service publishes and the ones it consumes.

Published (through the outbox, in the transaction of the change):

- ``boards.meeting_scheduled``::

    {"board_id": "mrc-66023", "meeting_id": "m-2026-12", "kind": "public",
     "scheduled_at": "2026-12-14T23:30:00+00:00", "place": "Salle du conseil"}

  ``place`` is empty for a closed meeting: where a closed session sits is not
  public.

- ``boards.resolution_adopted``, version 3 (public resolutions only; a
  closed-session resolution is announced without title, text or votes,
  ``closed_session: true``)::

    {"board_id": "mrc-66023", "resolution_id": "res-...", "number": "2026-001",
     "meeting_id": "m-2026-12", "adopted_on": "2026-12-14",
     "closed_session": false, "title": "...", "text": "...",
     "votes": {"for": 3, "against": 3, "abstain": 0},
     "decided_by_casting_vote": true, "process_id": "proc-1"}

  Version 2 added ``decided_by_casting_vote`` (the chair's casting vote broke a
  tie); a version 1 payload is upcast with ``false``, which is what it meant:
  there was no casting vote before version 2.

  Version 3 adds ``history`` beside ``text`` (public resolutions): how the
  adopted text came to be under the deliberative procedure, without people::

    "history": {"moved_text": "Accorder 10 000 $ ...",
                "adopted_text": "Accorder 15 000 $ ...",
                "amendments": [{"question_id": "q2", "result": "adopted",
                                "moved": {"op": "replace", "start": 9, "end": 17,
                                          "text": "12 000 $"},
                                "as_voted": {"op": "replace", ..., "text": "15 000 $"},
                                "before": "...", "after": "...",
                                "votes": {"method": "show_of_hands", "for": 4,
                                          "against": 2, "abstain": 1,
                                          "adopted": true},
                                "sub_amendments": [...]}]}

  ``history`` is ``null`` for a motion voted without the procedure, and a
  version 2 payload is upcast with ``null``: nothing was amended before.

- ``boards.decision_status_changed``::

    {"board_id": "mrc-66023", "resolution_id": "res-...", "number": "2026-001",
     "previous_status": "planned", "status": "in_progress", "progress": 20,
     "due": "2027-03-31", "on": "2026-12-20"}

- ``boards.agenda_proposal_decided`` (an item another service proposed, from
  participation results or an indicator watch, accepted or refused by the
  secretary; the reason is the one shown to the proposer; a member's own
  proposal stays inside the board)::

    {"board_id": "mrc-66023", "meeting_id": "m-2026-12",
     "item_id": "participation-proc-1-p-a", "source": "participation",
     "decision": "refused", "reason": "Déjà financé en 2026.",
     "process_id": "proc-1", "proposal_id": "p-a", "indicator_id": null}

Consumed: ``participation.results_published`` (``process_id``, ``title``,
``priorities``: ``[{rank, proposal_id, title}]``).

No personal data travels in these events (member ids stay in the service).
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from services.boards.domain import (
    AgendaItem,
    DecisionStatus,
    ItemSource,
    Meeting,
    MeetingKind,
    Resolution,
    people_in_history,
)
from shared.envelope import register_upcaster

MEETING_SCHEDULED = "boards.meeting_scheduled"
RESOLUTION_ADOPTED = "boards.resolution_adopted"
DECISION_STATUS_CHANGED = "boards.decision_status_changed"
AGENDA_PROPOSAL_DECIDED = "boards.agenda_proposal_decided"

RESULTS_PUBLISHED = "participation.results_published"


# --- payload schemas (current versions): what readers may rely on ---------------


class _Payload(Schema):
    class Meta:
        unknown = RAISE


class MeetingScheduledV1(_Payload):
    board_id = fields.String(required=True)
    meeting_id = fields.String(required=True)
    kind = fields.String(
        required=True, validate=validate.OneOf([k.value for k in MeetingKind])
    )
    scheduled_at = fields.AwareDateTime(required=True)
    place = fields.String(required=True)


class VotesV1(_Payload):
    for_ = fields.Integer(required=True, data_key="for")
    against = fields.Integer(required=True)
    abstain = fields.Integer(required=True)


class ResolutionAdoptedV1(_Payload):
    board_id = fields.String(required=True)
    resolution_id = fields.String(required=True)
    number = fields.String(required=True)
    meeting_id = fields.String(required=True)
    adopted_on = fields.Date(required=True)
    closed_session = fields.Boolean(required=True)
    process_id = fields.String(allow_none=True, required=True)
    title = fields.String()
    text = fields.String()
    votes = fields.Nested(VotesV1)


class ResolutionAdoptedV2(ResolutionAdoptedV1):
    """With ``decided_by_casting_vote`` beside ``votes`` (public resolutions)."""

    decided_by_casting_vote = fields.Boolean()


@register_upcaster(RESOLUTION_ADOPTED, 1)
def _resolution_adopted_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """No casting vote existed in version 1: a public resolution's tie never
    decided it."""
    if "votes" in payload:
        payload.setdefault("decided_by_casting_vote", False)
    return payload


class ResolutionAdoptedV3(ResolutionAdoptedV2):
    """With ``history`` beside ``text`` (public resolutions)."""

    history = fields.Dict(allow_none=True)
    # optional: what the resolution adopts for another service (a catalogue
    # definition, a data-sharing agreement), as its agenda item carried it:
    # {"service": "indicators", "kind": "indicator", "id": ..., "version": 2,
    #  "digest": "sha256:...", "content": {...}}
    definition = fields.Dict()


@register_upcaster(RESOLUTION_ADOPTED, 2)
def _resolution_adopted_v2_to_v3(payload: dict[str, Any]) -> dict[str, Any]:
    """No procedure history existed in version 2: the text was moved as adopted."""
    if "text" in payload:
        payload.setdefault("history", None)
    return payload


class DecisionStatusChangedV1(_Payload):
    board_id = fields.String(required=True)
    resolution_id = fields.String(required=True)
    number = fields.String(required=True)
    previous_status = fields.String(
        required=True, validate=validate.OneOf([s.value for s in DecisionStatus])
    )
    status = fields.String(
        required=True, validate=validate.OneOf([s.value for s in DecisionStatus])
    )
    progress = fields.Integer(required=True, validate=validate.Range(0, 100))
    due = fields.Date(allow_none=True, required=True)
    on = fields.Date(required=True)


DECISIONS = ("accepted", "refused")


class AgendaProposalDecidedV1(_Payload):
    board_id = fields.String(required=True)
    meeting_id = fields.String(required=True)
    item_id = fields.String(required=True)
    source = fields.String(
        required=True,
        validate=validate.OneOf([ItemSource.PARTICIPATION, ItemSource.INDICATOR]),
    )
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    reason = fields.String(allow_none=True, required=True)
    process_id = fields.String(allow_none=True, required=True)
    proposal_id = fields.String(allow_none=True, required=True)
    indicator_id = fields.String(allow_none=True, required=True)


PAYLOADS: dict[str, type[Schema]] = {
    MEETING_SCHEDULED: MeetingScheduledV1,
    RESOLUTION_ADOPTED: ResolutionAdoptedV3,
    DECISION_STATUS_CHANGED: DecisionStatusChangedV1,
    AGENDA_PROPOSAL_DECIDED: AgendaProposalDecidedV1,
}

FROM_OTHER_SERVICES = frozenset({ItemSource.PARTICIPATION, ItemSource.INDICATOR})


def agenda_proposal_decided(meeting: Meeting, item: AgendaItem) -> dict[str, Any]:
    """``decision`` is ``refused`` when the item carries a refusal reason."""
    return {
        "board_id": meeting.board_id,
        "meeting_id": meeting.meeting_id,
        "item_id": item.item_id,
        "source": item.source.value,
        "decision": "refused" if item.refusal else "accepted",
        "reason": item.refusal,
        "process_id": item.process_id,
        "proposal_id": item.proposal_id,
        "indicator_id": item.indicator_id,
    }


def meeting_scheduled(meeting: Meeting) -> dict[str, Any]:
    return {
        "board_id": meeting.board_id,
        "meeting_id": meeting.meeting_id,
        "kind": meeting.kind.value,
        "scheduled_at": meeting.scheduled_at.isoformat(),
        "place": "" if meeting.is_closed else meeting.place,
    }


def resolution_adopted(res: Resolution) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "board_id": res.board_id,
        "resolution_id": res.resolution_id,
        "number": res.number,
        "meeting_id": res.meeting_id,
        "adopted_on": res.adopted_on.isoformat(),
        "closed_session": res.closed_session,
        "process_id": res.process_id,
    }
    if not res.closed_session:
        payload |= {
            "title": res.title,
            "text": res.text,
            "votes": {
                "for": res.votes_for,
                "against": res.votes_against,
                "abstain": res.abstentions,
            },
            "decided_by_casting_vote": res.decided_by_casting_vote,
            "history": people_in_history(res.history),
        }
        if res.definition is not None:
            payload["definition"] = res.definition
    return payload


def decision_status_changed(res: Resolution, previous: str) -> dict[str, Any]:
    last = res.updates[-1]
    return {
        "board_id": res.board_id,
        "resolution_id": res.resolution_id,
        "number": res.number,
        "previous_status": previous,
        "status": res.status.value,
        "progress": res.progress,
        "due": res.due.isoformat() if res.due else None,
        "on": last.on.isoformat(),
    }
