"""The board decides what leaves: on a node whose node.yaml names its board, a
data-sharing agreement takes effect only once that board adopted it, as
written, by resolution; the federation refuses to send or accept under any
other, naming it."""

from __future__ import annotations

from dataclasses import replace

from services.federation.domain import (
    Reason,
    adoption_key,
    agreement_digest,
    check_incoming,
    prepare_outgoing,
)
from shared.envelope import Envelope, utcnow
from tests.federation.helpers import (
    APPROVED,
    agreement,
    approved,
    config,
    config_dict,
    identity,
)

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
