"""Opening hours in words, and "open now", for the public service page.

Pure functions over HSDS ``schedule`` rows; "open now" is the offerings
service's own rule (:func:`services.offerings.domain.opening_slots` and
:func:`~services.offerings.domain.is_open`, Quebec civil time), so the page
and the search's ``open_now`` filter never disagree::

    in_words([{"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR",
               "opens_at": "09:00", "closes_at": "17:00"}], "fr")
    -> ["Du lundi au vendredi, de 9 h à 17 h"]
    in_words([...same...], "en") -> ["Monday to Friday, 9 a.m. to 5 p.m."]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from services.offerings.domain import is_open, opening_slots, quebec_time

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": (
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ),
}
ORDINALS = {
    "fr": {1: "premier", 2: "deuxième", 3: "troisième", 4: "quatrième", -1: "dernier"},
    "en": {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"},
}
MONTHS_FR = (
    "janvier février mars avril mai juin juillet août septembre octobre "
    "novembre décembre"
).split()
MONTHS_EN = (
    "January February March April May June July August September October "
    "November December"
).split()
_BYDAY = re.compile(r"^([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)$")


def clock(text: Any, lang: str) -> str:
    """``"09:30"`` -> ``"9 h 30"`` (fr) / ``"9:30 a.m."`` (en); ``"12:00"`` ->
    ``"12 h"`` / ``"noon"``; ``"00:00"`` -> ``"minuit"`` / ``"midnight"``."""
    match = re.match(r"^(\d{1,2}):(\d{2})", str(text or ""))
    if not match:
        return ""
    hour, minute = int(match.group(1)), int(match.group(2))
    if lang == "fr":
        if (hour, minute) in ((0, 0), (24, 0)):
            return "minuit"
        return f"{hour} h" + (f" {minute:02d}" if minute else "")
    if (hour, minute) in ((0, 0), (24, 0)):
        return "midnight"
    if (hour, minute) == (12, 0):
        return "noon"
    suffix = "a.m." if hour < 12 else "p.m."
    twelve = hour % 12 or 12
    return f"{twelve}" + (f":{minute:02d}" if minute else "") + f" {suffix}"


def _day_list(days: list[int], lang: str) -> str:
    """Weekday numbers as words, runs of three or more as "du lundi au vendredi"."""
    names = DAY_NAMES[lang]
    runs: list[list[int]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            first, last = names[run[0]], names[run[-1]]
            parts.append(
                f"du {first} au {last}" if lang == "fr" else f"{first} to {last}"
            )
        else:
            parts.extend(names[d] for d in run)
    if len(parts) == 1:
        return parts[0]
    joiner = " et " if lang == "fr" else " and "
    return ", ".join(parts[:-1]) + joiner + parts[-1]


def _long_date(text: str, lang: str) -> str:
    try:
        day = date.fromisoformat(str(text)[:10])
    except ValueError:
        return ""
    if lang == "fr":
        return f"{'1er' if day.day == 1 else day.day} {MONTHS_FR[day.month - 1]} {day.year}"
    return f"{MONTHS_EN[day.month - 1]} {day.day}, {day.year}"


def sentence(schedule: Mapping[str, Any], lang: str) -> str:
    """One schedule row in words, or ``""`` when it says no opening hours.

    >>> sentence({"freq": "MONTHLY", "byday": "-1FR", "opens_at": "13:00",
    ...           "closes_at": "16:30"}, "fr")
    'Le dernier vendredi du mois, de 13 h à 16 h 30'
    """
    lang = "en" if lang == "en" else "fr"
    opens, closes = (
        clock(schedule.get("opens_at"), lang),
        clock(schedule.get("closes_at"), lang),
    )
    if not opens or not closes:
        return str(schedule.get("description") or "")
    freq = str(schedule.get("freq") or "WEEKLY").upper()
    weekly: list[int] = []
    monthly: list[str] = []
    for part in str(schedule.get("byday") or "").split(","):
        match = _BYDAY.match(part.strip().upper())
        if not match:
            continue
        day = DAYS.index(match.group(2))
        nth = int(match.group(1) or 0) if freq == "MONTHLY" else 0
        if nth and nth in ORDINALS[lang]:
            name = DAY_NAMES[lang][day]
            monthly.append(
                f"le {ORDINALS[lang][nth]} {name}"
                if lang == "fr"
                else f"the {ORDINALS[lang][nth]} {name}"
            )
        else:
            weekly.append(day)
    if monthly:
        joiner = " et " if lang == "fr" else " and "
        when = joiner.join(monthly) + (" du mois" if lang == "fr" else " of the month")
    elif freq == "MONTHLY" and schedule.get("bymonthday"):
        days = str(schedule.get("bymonthday"))
        when = f"le {days} du mois" if lang == "fr" else f"day {days} of the month"
    elif weekly:
        when = _day_list(weekly, lang)
    else:
        when = "tous les jours" if lang == "fr" else "every day"
    text = (
        f"{when}, de {opens} à {closes}"
        if lang == "fr"
        else f"{when}, {opens} to {closes}"
    )
    until = schedule.get("valid_to") or schedule.get("until")
    if until and _long_date(str(until), lang):
        text += (
            f" (jusqu'au {_long_date(str(until), lang)})"
            if lang == "fr"
            else f" (until {_long_date(str(until), lang)})"
        )
    note = str(schedule.get("description") or schedule.get("notes") or "")
    if note:
        text += f" — {note}"
    return text[0].upper() + text[1:]


def in_words(schedules: Iterable[Mapping[str, Any]], lang: str) -> list[str]:
    """Every schedule in words, in week order; ended ones left out."""
    today = date.today().isoformat()
    rows = []
    for schedule in schedules:
        until = str(schedule.get("valid_to") or schedule.get("until") or "")[:10]
        if until and until < today:
            continue
        text = sentence(schedule, lang)
        if text:
            first = next(
                (
                    DAYS.index(m.group(2))
                    for p in str(schedule.get("byday") or "").split(",")
                    if (m := _BYDAY.match(p.strip().upper()))
                ),
                0,
            )
            rows.append((first, str(schedule.get("opens_at") or ""), text))
    return [text for _, _, text in sorted(rows)]


def open_now(
    schedules: Iterable[Mapping[str, Any]], moment: datetime | None = None
) -> bool | None:
    """Open at ``moment`` (now) by the service's rule; ``None`` without hours."""
    slots = opening_slots([dict(s) for s in schedules])
    if not slots:
        return None
    return is_open(slots, quebec_time(moment or datetime.now(UTC)))
