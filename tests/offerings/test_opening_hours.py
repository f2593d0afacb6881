""" "Open now": HSDS 3.0 weekly and monthly schedules, their validity, nights
past midnight, and Quebec's daylight saving time, on concrete dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule

from services.offerings.domain import (
    SearchIndex,
    SearchQuery,
    ServiceView,
    is_open,
    opening_slots,
    quebec_time,
    search_entry,
)


def hours(**schedule) -> list[dict]:
    return opening_slots([{"opens_at": "09:00", "closes_at": "17:00", **schedule}])


def open_on(slots, day: str, at: str = "10:00") -> bool:
    return is_open(slots, datetime.fromisoformat(f"{day}T{at}"))


def test_first_monday_of_the_month():
    slots = hours(freq="MONTHLY", byday="1MO")
    assert open_on(slots, "2026-12-07")  # first Monday of December 2026
    assert not open_on(slots, "2026-12-14")
    assert not open_on(slots, "2026-11-30")  # November's fifth Monday
    assert open_on(slots, "2026-11-02")
    assert not open_on(slots, "2026-12-07", "08:59")
    assert not open_on(slots, "2026-12-07", "17:00")


def test_last_friday_of_the_month():
    slots = hours(freq="MONTHLY", byday="-1FR")
    assert open_on(slots, "2026-12-25")  # last Friday of December 2026
    assert not open_on(slots, "2026-12-18")
    assert open_on(slots, "2026-10-30")
    assert not open_on(slots, "2026-10-23")


def test_fifth_weekday_only_in_months_that_have_one():
    fifth = hours(freq="MONTHLY", byday="5TU")
    december = [date(2026, 12, d) for d in (1, 8, 15, 22, 29)]  # five Tuesdays
    assert [open_on(fifth, str(d)) for d in december] == [False] * 4 + [True]
    november = [date(2026, 11, d) for d in (3, 10, 17, 24)]  # four Tuesdays
    assert not any(open_on(fifth, str(d)) for d in november)
    # the last Tuesday is the fifth in December, the fourth in November
    last = hours(freq="MONTHLY", byday="-1TU")
    assert open_on(last, "2026-12-29") and not open_on(last, "2026-12-22")
    assert open_on(last, "2026-11-24")
    second_to_last = hours(freq="MONTHLY", byday="-2TU")
    assert open_on(second_to_last, "2026-12-22")
    assert open_on(second_to_last, "2026-11-17")


def test_several_rules_and_plain_days_in_a_monthly_schedule():
    slots = hours(freq="MONTHLY", byday="1MO,-1FR,WE")
    assert open_on(slots, "2026-12-07") and open_on(slots, "2026-12-25")
    assert open_on(slots, "2026-12-16")  # every Wednesday
    assert not open_on(slots, "2026-12-21") and not open_on(slots, "2026-12-18")


def test_days_of_the_month_count_from_either_end():
    slots = hours(freq="MONTHLY", bymonthday="15,-1")
    assert open_on(slots, "2026-12-15") and open_on(slots, "2026-12-31")
    assert open_on(slots, "2026-02-28") and not open_on(slots, "2026-02-27")
    assert open_on(slots, "2028-02-29") and not open_on(slots, "2028-02-28")
    assert not open_on(slots, "2026-12-30")
    friday_13 = hours(freq="MONTHLY", byday="FR", bymonthday="13")
    assert [
        d
        for d in ("2026-02-13", "2026-03-13", "2026-11-13", "2026-12-13")
        if open_on(friday_13, d)
    ] == ["2026-02-13", "2026-03-13", "2026-11-13"]
    from_start = hours(freq="MONTHLY", dtstart="2026-01-20")
    assert open_on(from_start, "2026-12-20") and not open_on(from_start, "2026-12-21")


def test_a_night_belongs_to_the_day_it_opened():
    last_friday_night = opening_slots(
        [
            {
                "freq": "MONTHLY",
                "byday": "-1FR",
                "opens_at": "22:00",
                "closes_at": "02:00",
            }
        ]
    )
    assert open_on(last_friday_night, "2026-12-26", "01:00")  # after Dec 25
    assert not open_on(last_friday_night, "2026-12-19", "01:00")
    last_sunday_night = opening_slots(
        [
            {
                "freq": "MONTHLY",
                "byday": "-1SU",
                "opens_at": "22:00",
                "closes_at": "02:00",
            }
        ]
    )
    # Sunday Dec 27 into Monday Dec 28: across the end of the week
    assert open_on(last_sunday_night, "2026-12-28", "01:00")
    assert not open_on(last_sunday_night, "2026-12-21", "01:00")
    new_year_eve = opening_slots(
        [
            {
                "freq": "MONTHLY",
                "bymonthday": "-1",
                "opens_at": "20:00",
                "closes_at": "03:00",
                "valid_to": "2026-12-31",
            }
        ]
    )
    # opened on the last day of December, still valid: open on January 1st
    assert open_on(new_year_eve, "2027-01-01", "02:00")
    assert not open_on(new_year_eve, "2027-01-31", "21:00")  # after valid_to


def test_validity_bounds_and_intervals():
    bounded = hours(
        freq="MONTHLY",
        byday="1MO",
        valid_from="2026-12-01",
        valid_to="2027-01-31",
        until="2027-01-04",
    )
    assert not open_on(bounded, "2026-11-02")
    assert open_on(bounded, "2026-12-07") and open_on(bounded, "2027-01-04")
    assert not open_on(bounded, "2027-02-01")
    every_other_month = hours(
        freq="MONTHLY", byday="1MO", interval=2, dtstart="2026-01-05"
    )
    assert open_on(every_other_month, "2026-03-02")
    assert not open_on(every_other_month, "2026-02-02")
    assert not open_on(every_other_month, "2025-12-01")  # before dtstart
    fortnightly = hours(freq="WEEKLY", byday="TU", interval=2, dtstart="2026-12-01")
    assert open_on(fortnightly, "2026-12-15") and not open_on(fortnightly, "2026-12-08")
    weekly = hours(freq="WEEKLY", byday="MO,1TU", valid_from="2026-12-01T00:00:00")
    assert open_on(weekly, "2026-12-01") and open_on(weekly, "2026-12-08")
    assert open_on(weekly, "2026-12-07") and not open_on(weekly, "2026-11-30")


RULES = [
    {"freq": "MONTHLY", "byday": "1MO"},
    {"freq": "MONTHLY", "byday": "-1FR"},
    {"freq": "MONTHLY", "byday": "5WE,-2SA"},
    {"freq": "MONTHLY", "byday": "2TU,-1TH"},
    {"freq": "MONTHLY", "bymonthday": "1,15,-1"},
    {"freq": "MONTHLY", "bymonthday": "-3"},
    {"freq": "MONTHLY", "byday": "FR", "bymonthday": "13"},
    {"freq": "MONTHLY", "byday": "-1MO", "interval": 3, "dtstart": "2026-01-26"},
    {"freq": "WEEKLY", "byday": "MO,WE,FR"},
    {"freq": "WEEKLY", "byday": "SA", "interval": 2, "dtstart": "2026-01-03"},
]


def _rrule(rule: dict) -> rrule.rrule:
    text = ";".join(
        f"{key.upper()}={value}"
        for key, value in rule.items()
        if key in ("freq", "byday", "bymonthday", "interval")
    )
    start = datetime.fromisoformat(rule.get("dtstart", "2026-01-01"))
    return rrule.rrulestr(f"RRULE:{text}", dtstart=start)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: ";".join(map(str, r.values())))
def test_every_day_of_three_years_agrees_with_dateutil_rrule(rule):
    """The RFC 5545 reading of dateutil, day by day from 2026 to 2028."""
    slots = hours(**rule)
    expected = {
        d.date()
        for d in _rrule(rule).between(
            datetime(2026, 1, 1), datetime(2028, 12, 31), inc=True
        )
    }
    day, wrong = date(2026, 1, 1), []
    while day <= date(2028, 12, 31):
        if is_open(slots, datetime.combine(day, time(12))) != (day in expected):
            wrong.append(day)
        day += timedelta(days=1)
    assert expected and not wrong


def test_hours_are_quebec_wall_clock_on_both_sides_of_daylight_saving():
    montreal = ZoneInfo("America/Montreal")
    weekdays = hours(freq="WEEKLY", byday="MO,TU,WE,TH,FR")
    for instant, expected in (
        (datetime(2026, 10, 30, 13, 30, tzinfo=UTC), True),  # 09:30 EDT
        (datetime(2026, 11, 2, 14, 30, tzinfo=UTC), True),  # 09:30 EST
        (datetime(2026, 11, 2, 13, 30, tzinfo=UTC), False),  # 08:30 EST
        (datetime(2026, 3, 6, 14, 30, tzinfo=UTC), True),  # 09:30 EST
        (datetime(2026, 3, 9, 13, 30, tzinfo=UTC), True),  # 09:30 EDT
        (datetime(2026, 3, 9, 12, 30, tzinfo=UTC), False),  # 08:30 EDT
    ):
        local = quebec_time(instant)
        assert local == instant.astimezone(montreal).replace(tzinfo=None)
        assert is_open(weekdays, local) is expected, instant


def test_search_finds_a_monthly_service_only_on_its_day():
    index = SearchIndex()
    for service_id, schedule in (
        ("first-monday", {"freq": "MONTHLY", "byday": "1MO"}),
        ("every-monday", {"freq": "WEEKLY", "byday": "MO"}),
    ):
        view = ServiceView(
            {"id": service_id, "name": service_id, "publication_status": "published"},
            None,
            [],
            [],
            [{"opens_at": "09:00", "closes_at": "17:00", **schedule}],
            [],
            [],
        )
        index.put(search_entry(view))
    # projections stored before the opening weekday was kept still answer
    index.put(
        {
            "_id": "old",
            "name": "old",
            "published": True,
            "slots": [{"s": 540, "e": 1020, "from": "", "to": ""}],
        }
    )

    def found(moment: str) -> list[str]:
        query = SearchQuery(open_at=datetime.fromisoformat(moment))
        return sorted(e["_id"] for e in index.search(query)[1])

    assert found("2026-12-07T10:00") == ["every-monday", "first-monday", "old"]
    assert found("2026-12-14T10:00") == ["every-monday", "old"]
