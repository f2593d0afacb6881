"""A board's notices: iCalendar feeds (RFC 5545) and e-mail through SMTP.

Feeds are built with the ``icalendar`` package: one VEVENT per meeting, its UID
stable (``<meeting_id>@<board_id>.maillage``) so a calendar updates the event
when the meeting moves, ``STATUS:CANCELLED`` for a cancelled one. The public
feed has the board's public meetings only; a member's private feed (a URL
signed for that member, :func:`member_token`) has all their meetings, closed
ones included, with the place of a closed meeting (members need it).

E-mail goes out only when ``SMTP_HOST`` is set in the environment (with
``SMTP_PORT`` (25), ``SMTP_FROM``, ``SMTP_USER``/``SMTP_PASSWORD`` and
``SMTP_STARTTLS=1`` when the relay needs them); without it nothing is sent and
the pages say so (:func:`smtp_configured`)::

    send_notice(["ada@example.org"], "Convocation : ...", "Le conseil se réunit ...")
    -> 1
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import smtplib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from icalendar import Calendar, Event

log = logging.getLogger(__name__)

MEETING_LENGTH = timedelta(hours=2)
PRODID = "-//Maillage//Conseils//FR"


def member_token(secret: str, board_id: str, member_id: str) -> str:
    """The private feed's key for one member of one board (HMAC, no storage:
    it changes when the node's secret does)."""
    message = f"ical:{board_id}:{member_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:40]


def token_valid(secret: str, board_id: str, member_id: str, given: str) -> bool:
    expected = member_token(secret, board_id, member_id)
    return hmac.compare_digest(expected.encode(), (given or "").encode())


def _when(meeting: dict[str, Any]) -> datetime:
    raw = str(meeting.get("scheduled_at") or meeting.get("date") or "")
    moment = datetime.fromisoformat(raw)
    # UTC ("...Z"): a fixed offset has no TZID and would read as floating time
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def calendar(
    board_id: str, board_name: str, meetings: Iterable[dict[str, Any]], url: str
) -> bytes:
    """An RFC 5545 VCALENDAR of ``meetings`` (public views or whole meetings)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", board_name)
    stamp = datetime.now(UTC).replace(microsecond=0)
    for meeting in meetings:
        start = _when(meeting)
        event = Event()
        event.add("uid", f"{meeting['meeting_id']}@{board_id}.maillage")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + MEETING_LENGTH)
        closed = meeting.get("kind") == "closed"
        title = f"{board_name} — séance {'à huis clos' if closed else 'publique'}"
        event.add("summary", title)
        if meeting.get("place"):
            event.add("location", meeting["place"])
        agenda = [
            str(i.get("title"))
            for i in meeting.get("agenda") or []
            if not i.get("in_camera")
        ]
        if agenda:
            event.add("description", "\n".join(f"- {t}" for t in agenda))
        event.add("class", "CONFIDENTIAL" if closed else "PUBLIC")
        event.add(
            "status",
            "CANCELLED" if meeting.get("status") == "cancelled" else "CONFIRMED",
        )
        event.add("url", f"{url}/seances/{meeting['meeting_id']}")
        cal.add_component(event)
    return cal.to_ical()


# --- e-mail ------------------------------------------------------------------------


def smtp_settings() -> dict[str, Any] | None:
    """The relay from the environment, ``None`` when none is configured."""
    host = os.environ.get("SMTP_HOST", "").strip()
    if not host:
        return None
    return {
        "host": host,
        "port": int(os.environ.get("SMTP_PORT") or 25),
        "sender": os.environ.get("SMTP_FROM") or "maillage@localhost",
        "user": os.environ.get("SMTP_USER") or "",
        "password": os.environ.get("SMTP_PASSWORD") or "",
        "starttls": os.environ.get("SMTP_STARTTLS", "") in ("1", "true", "yes"),
    }


def smtp_configured() -> bool:
    return smtp_settings() is not None


def send_notice(recipients: Iterable[str], subject: str, body: str) -> int:
    """E-mail one notice to each address (one message, recipients in Bcc);
    the number of addresses it went to, 0 when no relay is configured. A relay
    that refuses or is down is logged: the write it announces is already done."""
    to = sorted({r.strip() for r in recipients if r and "@" in r})
    conf = smtp_settings()
    if conf is None or not to:
        return 0
    message = EmailMessage()
    message["From"] = conf["sender"]
    message["To"] = conf["sender"]
    message["Bcc"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(conf["host"], conf["port"], timeout=10) as relay:
            if conf["starttls"]:
                relay.starttls()
            if conf["user"]:
                relay.login(conf["user"], conf["password"])
            relay.send_message(message, to_addrs=to)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("notice not sent (%s): %s", subject, exc)
        return 0
    return len(to)
