"""Pure helpers of the directory editing and administration pages: the geography
people pick names from, the next opening times of a schedule, who may read a
confidential address, the export's tables. No I/O beyond reading the node's
geography files once.

People never type a census code: a select lists the MRCs by name and a
datalist the municipalities (``Saint-Jean-sur-Richelieu (2456083)``); the code
is what the form sends::

    mrc_choices()[:1] -> [("2401", "Les Îles-de-la-Madeleine")]
    municipality_code("Saint-Jean-sur-Richelieu (2456083)") -> "2456083"
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from gateway.permissions import PERMISSIONS, ROLE_LABELS, ROLES
from services.offerings.domain import GeoReference, is_open, opening_slots
from services.offerings.imports import load_geo

DEFAULT_GEO = Path(__file__).resolve().parents[3] / "shared" / "data" / "quebec_geo"
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_CODE_IN_NAME = re.compile(r"\((24\d{5})\)\s*$")


@lru_cache(maxsize=1)
def geography() -> GeoReference:
    """The Quebec divisions and municipalities the offerings service checks
    codes against (``QUEBEC_GEO_DIR``, else the shared data)."""
    configured = os.environ.get("QUEBEC_GEO_DIR")
    found = load_geo(Path(configured) if configured else DEFAULT_GEO)
    return found or GeoReference({}, {})


def mrc_choices() -> list[tuple[str, str]]:
    """``(code, name)`` of every MRC (census division), sorted by name."""
    return sorted(geography().divisions.items(), key=lambda kv: kv[1])


def mrc_name(code: str | None) -> str:
    if not code:
        return ""
    return geography().divisions.get(code, code)


def municipality_choices(mrc: str | None = None) -> list[str]:
    """Datalist values ``Name (code)``, of one MRC when given."""
    items = geography().municipalities.items()
    return sorted(
        f"{name} ({code})"
        for code, name in items
        if mrc is None or code.startswith(str(mrc))
    )


def municipality_label(code: str | None) -> str:
    if not code:
        return ""
    name = geography().municipalities.get(code)
    return f"{name} ({code})" if name else code


def municipality_code(text: str) -> str | None:
    """The code of a datalist value (or of an exact name); ``None`` if unknown.

    >>> municipality_code("") is None
    True
    """
    text = (text or "").strip()
    if not text:
        return None
    match = _CODE_IN_NAME.search(text)
    if match and match.group(1) in geography().municipalities:
        return match.group(1)
    folded = text.casefold()
    hits = [c for c, n in geography().municipalities.items() if n.casefold() == folded]
    return hits[0] if len(hits) == 1 else None


def role_label(role: str | None, lang: str) -> str:
    fr, en = ROLE_LABELS.get(str(role), (str(role), str(role)))
    return en if lang == "en" else fr


def role_choices(lang: str) -> list[tuple[str, str]]:
    return [(role, role_label(role, lang)) for role in ROLES]


def confidential_readers(lang: str) -> list[str]:
    """The roles the permission table lets read a confidential address (of
    their own MRC), by name: what the location form tells the practitioner."""
    allowed = PERMISSIONS["offerings.read_confidential"]
    return [role_label(r, lang) for r in ROLES if r in allowed]


def next_openings(
    schedules: list[dict[str, Any]], now: datetime, count: int = 5, days: int = 62
) -> list[datetime]:
    """The next ``count`` opening times (Quebec wall-clock, naive) of the
    schedules, read by the offerings service's own rules
    (:func:`~services.offerings.domain.opening_slots` and ``is_open``), so the
    preview means what search's "open now" means::

        next_openings([{"freq": "WEEKLY", "byday": "MO", "opens_at": "09:00",
                        "closes_at": "12:00"}], datetime(2026, 1, 1))[0]
        -> datetime(2026, 1, 5, 9, 0)
    """
    slots = opening_slots(schedules)
    found: set[datetime] = set()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for offset in range(days):
        day = start + timedelta(days=offset)
        for slot in slots:
            if slot.get("d", day.weekday()) != day.weekday():
                continue
            minute = slot["s"] - day.weekday() * 1440
            if not 0 <= minute < 1440:
                continue  # the part of a night opening after midnight
            moment = day + timedelta(minutes=minute)
            if moment >= now and is_open([slot], moment):
                found.add(moment)
        if len(found) >= count:
            break
    return sorted(found)[:count]


def schedule_text(schedule: dict[str, Any], lang: str) -> str:
    """A rule in words: "Chaque lundi, 09:00–12:00" / "1st Monday of the month"."""
    fr_days = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
    en_days = (
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    )
    names = en_days if lang == "en" else fr_days
    hours = f"{str(schedule.get('opens_at') or '')[:5]}–"
    hours += str(schedule.get("closes_at") or "")[:5]
    parts = []
    for part in str(schedule.get("byday") or "").split(","):
        match = re.match(r"^([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)$", part.strip().upper())
        if not match:
            continue
        day = names[DAYS.index(match.group(2))]
        nth = match.group(1)
        if nth and schedule.get("freq") == "MONTHLY":
            n = int(nth)
            if lang == "en":
                which = (
                    "last"
                    if n == -1
                    else {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")
                )
                parts.append(f"{which} {day} of the month")
            else:
                which = "dernier" if n == -1 else ("1er" if n == 1 else f"{n}e")
                parts.append(f"{which} {day} du mois")
        else:
            parts.append(("every " if lang == "en" else "chaque ") + day)
    if not parts and schedule.get("bymonthday"):
        day_text = str(schedule["bymonthday"])
        parts.append(
            f"day {day_text} of the month" if lang == "en" else f"le {day_text} du mois"
        )
    if not parts:
        parts.append("every day" if lang == "en" else "chaque jour")
    text = ", ".join(parts)
    return f"{text[:1].upper()}{text[1:]}, {hours}"


def moment_text(moment: datetime, lang: str) -> str:
    fr_days = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
    en_days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    day = (en_days if lang == "en" else fr_days)[moment.weekday()]
    return f"{day} {moment:%Y-%m-%d %H:%M}"
