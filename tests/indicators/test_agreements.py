"""The board decides what leaves: on a node whose node.yaml names its board, a
data-sharing agreement takes effect only once that board adopted it, as
written, by resolution; the federation refuses to send or accept under any
other, naming it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from nameko.testing.services import worker_factory
from pymongo import MongoClient

from services.federation.dependencies import FederationHandle
from services.federation.domain import (
    Reason,
    adoption_key,
    agreement_digest,
    check_incoming,
    prepare_outgoing,
)
from services.federation.events import RESOLUTION_ADOPTED
from services.federation.repository import REJECTED
from services.federation.service import FederationService
from shared.envelope import Envelope, utcnow
from shared.store import StoreHandle
from tests.federation.helpers import (
    APPROVED,
    agreement,
    approved,
    config,
    config_dict,
    identity,
)
from tests.indicators.test_service import RecordingOutbox

CELLS = [{"org_unit": "csd:2466023", "sex": "F", "count": 40}]


def _pair(tmp_path, **kw):
    mrc, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    out = config_dict(mrc, [(region, None)], [agreement("region-06", "out", **kw)])
    out["node"]["board"] = "mrc-66023"
    inbound = config_dict(region, [(mrc, None)], [agreement("mrc-66023", "in", **kw)])
    inbound["node"]["board"] = "region-06-table"
    return mrc, config(out), config(inbound)


def _adopted(cfg):
    return {adoption_key(a.id, agreement_digest(a)) for a in cfg.agreements}


def test_nothing_leaves_under_an_agreement_the_board_has_not_adopted(tmp_path):
    mrc, sender, _ = _pair(tmp_path)
    event = Envelope(APPROVED, approved(CELLS), "mrc-66023", occurred_at=utcnow())
    sent, withheld = prepare_outgoing(event, sender, mrc.private_key, utcnow())
    assert sent == []
    assert [(w.agreement_id, w.reason) for w in withheld] == [
        ("mrc-66023-to-region-06", Reason.NOT_ADOPTED)
    ]
    sent, _ = prepare_outgoing(
        event, sender, mrc.private_key, utcnow(), adopted=_adopted(sender)
    )
    assert [s.agreement_id for s in sent] == ["mrc-66023-to-region-06"]


def test_an_agreement_edited_after_its_adoption_needs_a_new_resolution(tmp_path):
    mrc, before, _ = _pair(tmp_path)
    _, widened, _ = _pair(tmp_path / "edited", threshold=0)  # node.yaml edited
    widened = replace(widened, key_path=before.key_path)
    event = Envelope(APPROVED, approved(CELLS), "mrc-66023", occurred_at=utcnow())
    sent, withheld = prepare_outgoing(
        event, widened, mrc.private_key, utcnow(), adopted=_adopted(before)
    )
    assert sent == [] and withheld[0].reason is Reason.NOT_ADOPTED


def test_a_message_under_an_agreement_not_adopted_here_is_refused_by_name(tmp_path):
    mrc, sender, receiver = _pair(tmp_path)
    event = Envelope(APPROVED, approved(CELLS), "mrc-66023", occurred_at=utcnow())
    (outgoing,), _ = prepare_outgoing(
        event, sender, mrc.private_key, utcnow(), adopted=_adopted(sender)
    )
    verdict = check_incoming(outgoing.data, receiver, utcnow())
    assert not verdict.accepted and verdict.reason is Reason.NOT_ADOPTED
    assert "mrc-66023-to-region-06" in verdict.detail
    assert "non adopté" in verdict.detail and "not adopted" in verdict.detail
    verdict = check_incoming(outgoing.data, receiver, utcnow(), _adopted(receiver))
    assert verdict.accepted


# --- the federation service on the real store --------------------------------


def _adoption(reference, board_id, number="2026-007"):
    payload = {
        "board_id": board_id,
        "resolution_id": f"res-{number}",
        "number": number,
        "meeting_id": "m-1",
        "adopted_on": "2026-05-12",
        "closed_session": False,
        "process_id": None,
        "definition": reference,
    }
    return Envelope(RESOLUTION_ADOPTED, payload, "node")


@pytest.fixture
def receiver(tmp_path, store_uri, db_prefix):
    """The region's federation service (its board: ``region-06-table``) and
    a message the MRC signed under their agreement."""
    mrc, sender, inbound = _pair(tmp_path)
    event = Envelope(APPROVED, approved(CELLS), "mrc-66023", occurred_at=utcnow())
    (outgoing,), _ = prepare_outgoing(
        event, sender, mrc.private_key, utcnow(), adopted=_adopted(sender)
    )
    client = MongoClient(store_uri, tz_aware=True)
    db = client[f"{db_prefix}federation"]
    worker = worker_factory(
        FederationService,
        store=StoreHandle(client, db),
        outbox=RecordingOutbox(),
        federation=FederationHandle(inbound, None, None),
    )
    yield worker, outgoing.data
    client.drop_database(f"{db_prefix}federation")
    client.close()


def test_the_service_accepts_only_once_its_own_board_adopted_the_agreement(
    receiver,
):
    worker, message = receiver
    body = json.dumps(message)
    assert worker.receive([body]) == 0
    refused = worker.store.db[REJECTED].find_one({})
    assert refused["reason"] == "agreement_not_adopted"
    assert "mrc-66023-to-region-06" in refused["detail"]
    assert worker.agreements_in_force() == []
    reference = worker.agreement_reference("mrc-66023-to-region-06")
    # a resolution of another board adopts nothing here
    worker.on_resolution_adopted([_adoption(reference, "mrc-66023")])
    assert worker.agreements_in_force() == []
    worker.on_resolution_adopted([_adoption(reference, "region-06-table")])
    (in_force,) = worker.agreements_in_force()
    assert in_force["id"] == "mrc-66023-to-region-06"
    assert in_force["adopted"]["number"] == "2026-007"
    assert in_force["fields"] == {APPROVED: ["indicator", "period", "cells"]}
    assert worker.receive([body]) == 1
    listed = {a["id"]: a["adopted"] for a in worker.agreements()}
    assert listed == {"mrc-66023-to-region-06": True}
