"""The participation nameko service: processes, proposals, secret ballots, results.

Entrypoints are thin: load with a schema, ask the domain, write through the
repository (and the outbox) in one transaction.  ``person`` is the
authenticated identifier the gateway passes; it is stored only as a
per-process pseudonymous key, an HMAC under the node's ``BALLOT_KEY`` (see
:mod:`services.participation.dependencies`).

    rpc.participation.cast_ballot("p1", {"ranking": ["a2", "a1"]}, person="ana@x.org")
    -> {"receipt": "9f2c…"}   # later found in rpc.participation.receipts("p1")
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.participation import domain
from services.participation.dependencies import BallotStore, VoterKeys
from services.participation.domain import ParticipationRefused
from services.participation.events import (
    PROCESS_CREATED,
    PROPOSAL_HIDDEN,
    PROPOSAL_QUALIFIED,
    PROPOSAL_SUBMITTED,
    RESULTS_PUBLISHED,
)
from services.participation.exceptions import Conflict, NotFound, from_refusal
from services.participation.repository import INDEXES, ParticipationRepository
from services.participation.schemas import (
    ProcessInput,
    ProcessOutput,
    ProcessQuery,
    ProposalInput,
    load,
)
from services.participation.tally import result_to_dict
from shared.outbox import Outbox
from shared.rpc import rpc
from shared.service import ServiceBase

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except ParticipationRefused as exc:
        raise from_refusal(exc) from None


# Keys of an author (HMAC voter keys) stay in the service: answers say "mine".
_PRIVATE = frozenset({"_id", "author_key", "seq"})


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in _PRIVATE}
    out["id"] = doc["_id"]
    return out


class ParticipationService(ServiceBase):
    name = "participation"
    store = BallotStore(indexes=INDEXES)
    outbox = Outbox()
    voter_keys = VoterKeys()
    clock: Callable[[], datetime] = staticmethod(_utcnow)

    @property
    def repository(self) -> ParticipationRepository:
        return ParticipationRepository(self.store.db)

    def _process(self, process_id: str, session: Any = None) -> dict[str, Any]:
        doc = self.repository.process(process_id, session)
        if doc is None:
            raise NotFound("process", process_id)
        return {**doc, "id": doc["_id"]}

    # --- processes and eligibility ----------------------------------------------

    @rpc
    def create_process(self, data: dict[str, Any]) -> dict[str, Any]:
        loaded = load(ProcessInput(), data)
        with _refusals():
            domain.check_phases(loaded["phases"])
            rules = domain.process_rules(
                loaded["method"], loaded["seats"], loaded.pop("rules")
            )
        if rules is not None:  # a process without variants reads as before
            loaded["rules"] = rules
        if loaded["method"] in domain.BUDGET and loaded["budget"] is None:
            from shared.errors import Invalid

            raise Invalid({"budget": ["Montant requis. / Amount required."]})
        if domain.uses_points(loaded):
            # bounded by default: the limit is stored, so pages and API show it
            loaded["max_points"] = domain.points_limit(loaded)
        doc = {
            "_id": str(uuid.uuid4()),
            **loaded,
            "closed": False,
            "voter_key": domain.VOTER_KEY,
        }
        with self.store.transaction() as session:
            self.repository.add_process(doc, session)
            self.outbox.add(
                PROCESS_CREATED,
                {
                    "process_id": doc["_id"],
                    "mrc_code": doc["mrc_code"],
                    "title": doc["title"],
                    "method": doc["method"],
                },
                session=session,
            )
        return _public(doc)

    def _view(self, doc: dict[str, Any]) -> dict[str, Any]:
        phase = domain.current_phase(doc, self.clock())
        shown = {**doc, "id": doc["_id"], "phase": phase}
        if domain.uses_points(doc):  # a process stored before the default bound
            shown["max_points"] = domain.points_limit(doc)
        return dict(ProcessOutput().dump(shown))

    @rpc
    def get_process(self, process_id: str) -> dict[str, Any]:
        """A process as anyone may read it, with the phase it is in now::

        {"id": "4b1e…", "mrc_code": "2466", "title": "Priorités 2027",
         "method": "irv", "seats": 1, "budget": null, "support_threshold": 2,
         "phases": {"proposals": ["2026-11-01T00:00:00Z", "…"], …},
         "phase": "proposals", "closed": false, …}
        """
        return self._view(self._process(str(process_id)))

    @rpc
    def list_processes(self, query: dict[str, Any] | None = None) -> dict[str, Any]:
        """One page of an MRC's open processes (``state`` widens it)::

        list_processes({"mrc_code": "2466", "limit": 20, "offset": 0})
        -> {"items": [{…as get_process…}], "total": 3, "offset": 0, "limit": 20}
        """
        loaded = load(ProcessQuery(), query or {})
        docs, total = self.repository.processes(
            loaded["mrc_code"], loaded["state"], loaded["offset"], loaded["limit"]
        )
        return {
            "items": [self._view(d) for d in docs],
            "total": total,
            "offset": loaded["offset"],
            "limit": loaded["limit"],
        }

    @rpc
    def set_eligible_count(
        self, process_id: str, eligible_count: int | None
    ) -> dict[str, Any]:
        """Declare (or correct, or withdraw with ``None``) how many may vote,
        until the close; never fewer than the ballots already cast::

        set_eligible_count("4b1e…", 120) -> {…as get_process…, "eligible_count": 120}
        """
        with self.store.transaction() as session:
            process = self._process(str(process_id), session)
            if process["closed"]:
                raise Conflict(
                    "Vote clos : les résultats sont publiés.",
                    "Vote closed: the results are published.",
                )
            cast = self.repository.participation_count(process["id"], session)
            with _refusals():
                count = domain.check_eligible_count(eligible_count, cast)
            self.repository.set_process(
                process["id"], {"eligible_count": count}, session
            )
        return self._view({**process, "eligible_count": count})

    @rpc
    def load_registry(self, process_id: str, csv_text: str) -> dict[str, Any]:
        """Residents of the MRC loaded by an administrator (CSV ``person,...``).

        The rows that can be read are loaded (a person already there is not
        added twice, so a corrected file can be loaded again); every other row
        comes back with its field and reason::

            {"rows": 2, "added": 2, "refused": [{"row": 4, "field": "person",
             "fr": "valeur attendue", "en": "value expected"}]}
        """
        with self.store.transaction() as session:
            process = self._process(process_id, session)
            with _refusals():
                rows, refused = domain.registry_report(
                    csv_text, str(process.get("mrc_code") or "")
                )
            added = self.repository.add_residents(
                [
                    {
                        "process_id": process_id,
                        "person_key": self.voter_keys(process, person),
                        "municipality_code": code,
                        "source": "registry",
                    }
                    for _, person, code in rows
                ],
                session,
            )
        return {"rows": len(rows), "added": added, "refused": refused}

    @rpc
    def issue_codes(self, process_id: str, count: int) -> list[str]:
        """One-time residency codes, returned once; only their hashes are kept."""
        codes = domain.new_codes(int(count))
        with self.store.transaction() as session:
            self._process(process_id, session)
            self.repository.add_codes(
                [
                    {
                        "_id": domain.code_hash(process_id, c),
                        "process_id": process_id,
                        "used": False,
                    }
                    for c in codes
                ],
                session,
            )
        return codes

    @rpc
    def redeem_code(self, process_id: str, code: str, person: str) -> dict[str, bool]:
        with self.store.transaction() as session:
            process = self._process(process_id, session)
            if not self.repository.use_code(
                domain.code_hash(process_id, code), session
            ):
                raise Conflict(
                    "Code inconnu ou déjà utilisé.", "Unknown or already used code."
                )
            self.repository.add_residents(
                [
                    {
                        "process_id": process_id,
                        "person_key": self.voter_keys(process, person),
                        "source": "code",
                    }
                ],
                session,
            )
        return {"resident": True}

    def _check_person(self, process: dict[str, Any], person: str, session: Any) -> str:
        key = self.voter_keys(process, person)
        resident = self.repository.is_resident(process["id"], key, session)
        with _refusals():
            domain.may_take_part(
                process, key, resident, lambda p: self.voter_keys(process, p)
            )
        return key

    # --- proposals --------------------------------------------------------------

    @rpc
    def submit_proposal(
        self, process_id: str, data: dict[str, Any], person: str
    ) -> dict[str, Any]:
        loaded = load(ProposalInput(), data)
        with self.store.transaction() as session:
            process = self._process(process_id, session)
            with _refusals():
                domain.require_phase(process, "proposals", self.clock())
            key = self._check_person(process, person, session)
            status = "on_ballot" if process["support_threshold"] == 0 else "submitted"
            doc = {
                "_id": str(uuid.uuid4()),
                "process_id": process_id,
                **loaded,
                "supports": 0,
                "status": status,
                "hidden": False,
                "author_key": key,
            }
            self.repository.add_proposal(doc, session)
            self.outbox.add(
                PROPOSAL_SUBMITTED,
                {
                    "process_id": process_id,
                    "proposal_id": doc["_id"],
                    "title": doc["title"],
                },
                session=session,
            )
        return _public(doc)

    @rpc
    def support_proposal(self, proposal_id: str, person: str) -> dict[str, Any]:
        try:
            with self.store.transaction() as session:
                proposal = self.repository.proposal(proposal_id, session)
                if proposal is None or proposal["hidden"]:
                    raise NotFound("proposal", proposal_id)
                if proposal["status"] == "withdrawn":
                    raise Conflict(
                        "Proposition retirée par son auteur.",
                        "Proposal withdrawn by its author.",
                    )
                process = self._process(proposal["process_id"], session)
                with _refusals():
                    domain.require_phase(process, "proposals", self.clock())
                key = self._check_person(process, person, session)
                supports = self.repository.add_support(
                    {"proposal_id": proposal_id, "person_key": key}, session
                )
                qualified = proposal["status"] == "submitted" and domain.qualifies(
                    supports, process["support_threshold"]
                )
                if qualified:
                    self.repository.set_proposal(
                        proposal_id, {"status": "on_ballot"}, session
                    )
                    self.outbox.add(
                        PROPOSAL_QUALIFIED,
                        {
                            "process_id": process["id"],
                            "proposal_id": proposal_id,
                            "supports": supports,
                        },
                        session=session,
                    )
        except DuplicateKeyError:
            raise Conflict(
                "Vous appuyez déjà cette proposition.",
                "You already support this proposal.",
            ) from None
        return {
            "supports": supports,
            "status": "on_ballot" if qualified else proposal["status"],
        }

    @rpc
    def comment(
        self,
        proposal_id: str,
        text: str,
        person: str,
        parent_id: str | None = None,
    ) -> dict[str, Any]:
        """A comment on a proposal, or a reply to one of its comments::

        comment("a3", "Et le transport ?", "ana@x.org", parent_id="c1")
        -> {"id": "c2", "proposal_id": "a3", "parent_id": "c1", "text": "…",
            "at": "2026-11-03T10:00:00+00:00", "hidden": false}
        """
        if not str(text).strip():
            from shared.errors import Invalid

            raise Invalid({"text": ["Texte requis. / Text required."]})
        with self.store.transaction() as session:
            proposal = self.repository.proposal(proposal_id, session)
            if proposal is None or proposal["hidden"]:
                raise NotFound("proposal", proposal_id)
            process = self._process(proposal["process_id"], session)
            now = self.clock()
            if domain.current_phase(process, now) not in ("proposals", "deliberation"):
                with _refusals():
                    domain.require_phase(process, "deliberation", now)
            key = self._check_person(process, person, session)
            if parent_id is not None:
                parent = self.repository.comment(str(parent_id), session)
                if parent is None or parent["proposal_id"] != proposal_id:
                    raise NotFound("comment", str(parent_id))
            doc = {
                "_id": str(uuid.uuid4()),
                "proposal_id": proposal_id,
                "parent_id": None if parent_id is None else str(parent_id),
                "text": str(text)[:5000],
                "at": now.isoformat(),
                # the order of comments made at the same instant: as they came
                "seq": self.repository.comment_count(proposal_id, session),
                "hidden": False,
                "author_key": key,
            }
            self.repository.add_comment(doc, session)
        return _public(doc)

    @rpc
    def hide_proposal(self, proposal_id: str, reason: str) -> dict[str, Any]:
        """Moderation: the proposal leaves lists and ballot; the reason is public."""
        if not str(reason).strip():
            from shared.errors import Invalid

            raise Invalid(
                {"reason": ["Motif public requis. / Public reason required."]}
            )
        with self.store.transaction() as session:
            proposal = self.repository.proposal(proposal_id, session)
            if proposal is None:
                raise NotFound("proposal", proposal_id)
            self.repository.set_proposal(
                proposal_id, {"hidden": True, "hidden_reason": reason}, session
            )
            self.outbox.add(
                PROPOSAL_HIDDEN,
                {
                    "proposal_id": proposal_id,
                    "process_id": proposal["process_id"],
                    "reason": reason,
                },
                session=session,
            )
        return {"id": proposal_id, "hidden": True, "hidden_reason": reason}

    @rpc
    def list_comments(
        self, proposal_id: str, person: str | None = None
    ) -> list[dict[str, Any]]:
        """A proposal's comments, oldest first. A hidden comment keeps its place
        and its public reason, without its text, except for its author, who
        reads both; ``mine`` marks the comments of ``person``::

        [{"id": "c1", "parent_id": null, "text": "…", "at": "…", "hidden": false,
          "mine": true},
         {"id": "c2", "parent_id": "c1", "text": "", "hidden": true,
          "hidden_reason": "Propos injurieux", "mine": false}]
        """
        proposal = self.repository.proposal(str(proposal_id))
        if proposal is None or proposal["hidden"]:
            raise NotFound("proposal", str(proposal_id))
        process = self._process(proposal["process_id"])
        key = self.voter_keys(process, person) if person else None
        shown = []
        for doc in self.repository.comments(str(proposal_id)):
            mine = key is not None and doc.get("author_key") == key
            out = _public(doc) | {"mine": mine}
            out.setdefault("parent_id", None)
            out["hidden"] = bool(doc.get("hidden"))
            if out["hidden"] and not mine:
                out["text"] = ""
            shown.append(out)
        return shown

    @rpc
    def hide_comment(
        self, process_id: str, comment_id: str, reason: str
    ) -> dict[str, Any]:
        """Moderation: the comment's text leaves the page, its public reason
        stays in its place; its author still reads both."""
        if not str(reason).strip():
            from shared.errors import Invalid

            raise Invalid(
                {"reason": ["Motif public requis. / Public reason required."]}
            )
        with self.store.transaction() as session:
            found = self.repository.comment(str(comment_id), session)
            proposal = found and self.repository.proposal(found["proposal_id"], session)
            if not proposal or proposal["process_id"] != process_id:
                raise NotFound("comment", str(comment_id))
            self.repository.set_comment(
                found["_id"], {"hidden": True, "hidden_reason": reason}, session
            )
        return {"id": found["_id"], "hidden": True, "hidden_reason": reason}

    def _own_proposal(
        self, proposal_id: str, person: str, session: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        proposal = self.repository.proposal(str(proposal_id), session)
        if proposal is None:
            raise NotFound("proposal", str(proposal_id))
        process = self._process(proposal["process_id"], session)
        key = self.voter_keys(process, person)
        with _refusals():
            domain.may_edit_proposal(process, proposal, key, self.clock())
        return process, proposal

    @rpc
    def edit_proposal(
        self, proposal_id: str, data: dict[str, Any], person: str
    ) -> dict[str, Any]:
        """Its author changes a proposal (title, description, cost…) during the
        proposals phase; its supports stay::

        edit_proposal("a3", {"title": "Parc", "description": "…"}, "ana@x.org")
        """
        loaded = load(ProposalInput(), data)
        with self.store.transaction() as session:
            _, proposal = self._own_proposal(proposal_id, person, session)
            changes = {**loaded, "edited_at": self.clock().isoformat()}
            self.repository.set_proposal(proposal["_id"], changes, session)
        return _public({**proposal, **changes})

    @rpc
    def withdraw_proposal(self, proposal_id: str, person: str) -> dict[str, Any]:
        """Its author withdraws a proposal during the proposals phase: it
        stays readable, marked withdrawn, and never reaches the ballot."""
        with self.store.transaction() as session:
            _, proposal = self._own_proposal(proposal_id, person, session)
            self.repository.set_proposal(
                proposal["_id"], {"status": "withdrawn"}, session
            )
        return _public({**proposal, "status": "withdrawn"})

    @rpc
    def my_proposals(self, process_id: str, person: str) -> list[dict[str, Any]]:
        """The proposals ``person`` wrote in a process, hidden ones included
        with the public reason, so the author sees why."""
        process = self._process(str(process_id))
        key = self.voter_keys(process, person)
        return [_public(p) for p in self.repository.proposals_by(process["id"], key)]

    @rpc
    def list_proposals(self, process_id: str) -> list[dict[str, Any]]:
        self._process(process_id)
        return [_public(p) for p in self.repository.proposals(process_id)]

    @rpc
    def hidden_proposals(self, process_id: str) -> list[dict[str, Any]]:
        """The public moderation record: which proposal was hidden and why,
        without its content: ``[{"id": "a3", "hidden_reason": "Propos haineux"}]``."""
        self._process(process_id)
        return self.repository.hidden(process_id)

    # --- ballots and results ------------------------------------------------------

    @rpc
    def cast_ballot(
        self, process_id: str, ballot: dict[str, Any], person: str
    ) -> dict[str, str]:
        """Record that ``person`` voted and, apart, what was voted; one per person.

        The transaction is retried on write conflicts (two voters landing in the
        same ballot box); the unique participation index is what refuses a
        second ballot from the same person, even sent at the same instant.
        """
        nonce = secrets.token_hex(16)

        def write(session: Any) -> str:
            process = self._process(process_id, session)
            with _refusals():
                domain.require_phase(process, "voting", self.clock())
            key = self._check_person(process, person, session)
            on_ballot = [
                p["_id"]
                for p in self.repository.proposals(
                    process_id, session, on_ballot_only=True
                )
            ]
            with _refusals():
                clean = domain.normalize_ballot(process, ballot, on_ballot)
            hashed = domain.receipt(clean, nonce)
            self.repository.record_participation(process_id, key, session)
            self.repository.add_ballot(
                process_id, {"ballot": clean, "receipt": hashed}, session
            )
            return hashed

        try:
            hashed = self.store.run_transaction(write)
        except DuplicateKeyError:
            raise Conflict(
                "Vous avez déjà voté dans cette consultation.",
                "You have already voted in this process.",
            ) from None
        return {"receipt": hashed}

    @rpc
    def close_vote(self, process_id: str) -> dict[str, Any]:
        """Count once the voting phase is over; publish the ranked priorities."""
        with self.store.transaction() as session:
            process = self._process(process_id, session)
            if process["closed"]:
                raise Conflict("Vote déjà clos.", "Vote already closed.")
            voting_end = domain.parse_time(process["phases"]["voting"][1])
            if self.clock() < voting_end:
                raise Conflict("Le vote n'est pas terminé.", "Voting is not over.")
            proposals = self.repository.proposals(
                process_id, session, on_ballot_only=True
            )
            plain = [{**p, "id": p["_id"]} for p in proposals]
            ballots = [
                b["ballot"] for b in self.repository.ballots(process_id, session)
            ]
            with _refusals():
                result = domain.tally_ballots(process, plain, ballots)
            ranked = domain.priorities(result, plain)
            eligible = domain.published_eligible(process, len(ballots))
            if eligible is None and process.get("eligible_count") is not None:
                log.warning(
                    "process %s: %d ballots exceed the %s declared eligible, "
                    "no turnout published",
                    process_id,
                    len(ballots),
                    process["eligible_count"],
                )
            self.repository.close_process(process_id, session)
            self.repository.save_result(
                {
                    "_id": process_id,
                    "priorities": ranked,
                    "ballots": len(ballots),
                    "eligible_count": eligible,
                    "rules": process.get("rules"),
                    "result": result_to_dict(result),
                },
                session,
            )
            self.outbox.add(
                RESULTS_PUBLISHED,
                {
                    "process_id": process_id,
                    "title": process["title"],
                    "mrc_code": process["mrc_code"],
                    "method": process["method"],
                    "priorities": ranked,
                    "ballots": len(ballots),
                    "eligible_count": eligible,
                },
                session=session,
            )
        return {"priorities": ranked, "ballots": len(ballots)}

    @rpc
    def get_results(self, process_id: str) -> dict[str, Any]:
        process = self._process(process_id)
        stored = self.repository.result(process_id)
        if not process["closed"] or stored is None:
            raise Conflict(
                "Résultats cachés jusqu'à la clôture du vote.",
                "Results are hidden until the vote closes.",
            )
        return {k: v for k, v in stored.items() if k != "_id"} | {
            "process_id": process_id
        }

    @rpc
    def receipts(self, process_id: str) -> list[str]:
        """The published list of ballot hashes (after the close, like results)."""
        process = self._process(process_id)
        if not process["closed"]:
            raise Conflict(
                "Liste publiée à la clôture du vote.",
                "List published when the vote closes.",
            )
        return self.repository.receipts(process_id)

    @rpc
    def turnout(self, process_id: str) -> dict[str, int]:
        self._process(process_id)
        return {"participants": self.repository.participation_count(process_id)}
