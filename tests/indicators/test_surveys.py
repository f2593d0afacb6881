"""Questionnaires and practitioners' reports: the pure domain, and the
indicators service on the real store (answers become counts of catalogue
elements read through the published tables; reports once per quarter, shown
only above the threshold)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from nameko.testing.services import worker_factory
from pymongo import MongoClient

from services.indicators import surveys
from services.indicators.dependencies import ReportKeyHandle
from services.indicators.geo import quebec_units
from services.indicators.repository import IndicatorsRepository
from services.indicators.service import IndicatorsService
from services.indicators.surveys import SurveyRefused
from shared import errors
from shared.store import StoreHandle
from tests.indicators.test_service import RecordingOutbox

SECRET = b"k" * 32
NOW = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)

ACCUEIL = {
    "id": "accueil",
    "org_unit": "cd:2437",
    "title": {"fr": "Votre visite", "en": "Your visit"},
    "questions": [
        {
            "id": "safer",
            "text": {
                "fr": "Vous sentez-vous plus en sécurité ?",
                "en": "Do you feel safer?",
            },
        },
        {
            "id": "heard",
            "text": {"fr": "Vous a-t-on écouté·e ?", "en": "Were you listened to?"},
        },
    ],
}


# --- the pure domain -----------------------------------------------------


def test_an_answer_only_adds_to_counts_of_its_questions() -> None:
    q = surveys.check_questionnaire(ACCUEIL)
    assert surveys.increments(q, {"safer": 5, "heard": 2}) == {
        "q_accueil_safer_n": 1,
        "q_accueil_safer_pos": 1,
        "q_accueil_heard_n": 1,
        "q_accueil_heard_pos": 0,
    }


def test_a_questionnaire_brings_two_counts_and_a_share_per_question() -> None:
    found = surveys.definitions(surveys.check_questionnaire(ACCUEIL))
    assert [(k, i) for k, i, _ in found][:3] == [
        ("data_element", "q_accueil_safer_n"),
        ("data_element", "q_accueil_safer_pos"),
        ("indicator", "q_accueil_safer"),
    ]
    assert found[2][2]["numerator"] == "#{q_accueil_safer_pos}"


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"safer": 6}, "answers.safer"),
        ({"safer": 0}, "answers.safer"),
        ({"safer": "beaucoup"}, "answers.safer"),
        ({"safer": True}, "answers.safer"),
        ({"other": 3}, "answers.other"),
        ({}, "answers"),
        ({"safer": None}, "answers"),
        ([4], "answers"),
    ],
)
def test_a_bad_answer_is_refused_naming_the_question(answers, field) -> None:
    q = surveys.check_questionnaire(ACCUEIL)
    with pytest.raises(SurveyRefused) as caught:
        surveys.check_answers(q, answers)
    assert caught.value.field == field
    assert "«" in str(caught.value) and '"' in str(caught.value)  # fr and en


def test_a_question_may_be_skipped() -> None:
    q = surveys.check_questionnaire(ACCUEIL)
    assert surveys.check_answers(q, {"safer": "4", "heard": ""}) == {"safer": 4}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "A"}, "id"),
        ({"org_unit": "cd:9999"}, "org_unit"),
        ({"questions": []}, "questions"),
        ({"title": {"fr": "x"}}, "title.en"),
        (
            {"questions": [{"id": "x", "text": {"fr": "a", "en": "b"}, "scale": 1}]},
            "questions.0.scale",
        ),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_bad_questionnaire_is_refused_naming_the_field(change, field) -> None:
    with pytest.raises(SurveyRefused) as caught:
        surveys.check_questionnaire(ACCUEIL | change)
    assert caught.value.field == field


def test_reports_are_aggregated_only_above_the_threshold() -> None:
    rows = [
        {"caseload": c, "admin_share": 40, "supervision": "none", "concerns": t}
        for c, t in [(10, "b"), (20, ""), (30, "a"), (40, ""), (50, "")]
    ]
    assert surveys.aggregate_reports(rows, 5, True) == {
        "reports": None,
        "suppressed": True,
        "threshold": 5,
    }
    shown = surveys.aggregate_reports(rows + [rows[0]], 5, True)
    assert shown["reports"] == 6
    assert shown["caseload"] == {"median": 25.0, "mean": 26.7}
    assert shown["supervision"] == {"regular": 0, "occasional": 0, "none": 100}
    assert shown["concerns"] == ["a", "b", "b"]  # sorted: no order of arrival
    assert "concerns" not in surveys.aggregate_reports(rows + [rows[0]], 5, False)


def test_the_report_key_needs_the_secret() -> None:
    key = surveys.report_key(SECRET, "acc-1", "2026Q1")
    assert key == surveys.report_key(SECRET, "acc-1", "2026Q1")
    assert key != surveys.report_key(b"x" * 32, "acc-1", "2026Q1")
    assert key != surveys.report_key(SECRET, "acc-1", "2026Q2")


# --- the service on the real store ----------------------------------------


@pytest.fixture(scope="module")
def francheville(data_dir):
    return [
        u
        for u in quebec_units(data_dir / "quebec_geo")
        if u.level <= 2 or u.id == "cd:2437" or u.id.startswith("csd:2437")
    ]


@pytest.fixture
def service(store_uri, db_prefix, francheville):
    client = MongoClient(store_uri, tz_aware=True)
    db = client[f"{db_prefix}indicators"]
    IndicatorsRepository(db).save_org_units(francheville)
    svc = worker_factory(
        IndicatorsService,
        store=StoreHandle(client, db),
        outbox=RecordingOutbox(),
        report_keys=ReportKeyHandle(SECRET),
        config={"SUPPRESSION_THRESHOLD": 5, "NODE_ORG_UNIT": "2437"},
    )
    svc.clock = lambda: NOW
    yield svc
    client.drop_database(f"{db_prefix}indicators")
    client.close()


def share(svc, public=True, period="2026Q1"):
    return svc.evaluate(
        {
            "indicator": "q_accueil_safer",
            "org_unit": "cd:2437",
            "period": period,
            "public": public,
        }
    )


def test_answers_become_catalogue_counts_published_with_suppression(service):
    described = service.define_questionnaire(ACCUEIL | {"by": "admin"})
    assert described["questions"][0]["indicator"] == "q_accueil_safer"
    ids = {d["id"] for d in service.catalogue()["data_elements"]}
    assert {"q_accueil_safer_n", "q_accueil_heard_pos"} <= ids
    for value in (5, 4, 2):
        service.answer_questionnaire("accueil", {"answers": {"safer": value}})
    assert share(service, public=False)["value"] == pytest.approx(66.67)
    assert share(service)["suppressed"] is True  # 3 answers: a small count
    for value in (5, 5, 4, 1, 4, 5):
        service.answer_questionnaire(
            "accueil", {"answers": {"safer": value}, "channel": "kiosk"}
        )
    assert share(service)["value"] == pytest.approx(77.78)
    # any indicator can use them, like any element
    adhoc = service.evaluate(
        {
            "numerator": "#{q_accueil_safer_n}",
            "org_unit": "cd:2437",
            "period": "202603",
            "public": True,
        }
    )
    assert adhoc["value"] == 9


def test_an_answer_is_stored_as_counts_only(service):
    service.define_questionnaire(ACCUEIL)
    service.answer_questionnaire("accueil", {"answers": {"safer": 3, "heard": 5}})
    db = service.store.db
    docs = list(db.data_values.find({"source": "survey"}))
    assert sorted(d["_id"] for d in docs) == [
        "q_accueil_heard_n|cd:2437|202603",
        "q_accueil_heard_pos|cd:2437|202603",
        "q_accueil_safer_n|cd:2437|202603",
        "q_accueil_safer_pos|cd:2437|202603",
    ]
    for doc in docs:  # no time, no channel, no id of a respondent
        assert set(doc) == {
            "_id",
            "data_element",
            "org_unit",
            "period",
            "value",
            "source",
        }


def test_a_paper_form_goes_to_the_month_it_was_filled_in_never_a_later_one(service):
    service.define_questionnaire(ACCUEIL)
    done = service.answer_questionnaire(
        "accueil", {"answers": {"heard": 4}, "channel": "paper", "period": "202601"}
    )
    assert done == {"questionnaire": "accueil", "period": "202601", "recorded": True}
    for period in ("202604", "202502", "2026Q1"):
        with pytest.raises(errors.Invalid) as caught:
            service.answer_questionnaire(
                "accueil",
                {"answers": {"heard": 4}, "channel": "paper", "period": period},
            )
        assert "period" in caught.value.fields


def test_answers_are_refused_naming_the_field(service):
    service.define_questionnaire(ACCUEIL)
    with pytest.raises(errors.Invalid) as caught:
        service.answer_questionnaire("accueil", {"answers": {"safer": 9}})
    assert "answers.safer" in caught.value.fields
    with pytest.raises(errors.Invalid) as caught:
        service.answer_questionnaire("accueil", {"answers": {"safer": 3}, "who": "me"})
    assert "who" in caught.value.fields
    with pytest.raises(errors.NotFound):
        service.answer_questionnaire("nothere", {"answers": {"safer": 3}})
    with pytest.raises(errors.Conflict):
        service.define_questionnaire(ACCUEIL)


def report(svc, account, caseload=30, **extra):
    return svc.report_practice(
        {
            "account": account,
            "org_unit": "2437",
            "caseload": caseload,
            "admin_share": 35,
            "supervision": "occasional",
            **extra,
        }
    )


def test_one_report_per_practitioner_and_quarter(service):
    assert report(service, "acc-1") == {"period": "2026Q1", "recorded": True}
    with pytest.raises(errors.Conflict) as caught:
        report(service, "acc-1", caseload=12)
    assert "period" in str(caught.value.message("fr"))
    assert report(service, "acc-1", period="2025Q4")["period"] == "2025Q4"
    status = service.practice_status({"account": "acc-1"})
    assert status == {
        "periods": [
            {"period": "2026Q1", "reported": True},
            {"period": "2025Q4", "reported": True},
        ]
    }
    with pytest.raises(errors.Invalid) as caught:
        report(service, "acc-2", period="2025Q3")
    assert "period" in caught.value.fields
    with pytest.raises(errors.Invalid) as caught:
        report(service, "acc-2", caseload=-1)
    assert "caseload" in caught.value.fields


def test_aggregates_and_concerns_leave_only_above_the_threshold(service):
    for i in range(5):
        report(service, f"acc-{i}", caseload=20 + i, concerns=f"souci {i}")
    hidden = service.practice_aggregates({"org_unit": "cd:2437", "concerns": True})
    assert hidden["suppressed"] is True and hidden["reports"] is None
    assert "concerns" not in hidden and "caseload" not in hidden
    report(service, "acc-5", caseload=50)
    shown = service.practice_aggregates({"org_unit": "cd:2437", "concerns": True})
    assert shown["reports"] == 6
    assert shown["caseload"]["median"] == 22.5
    assert shown["concerns"] == [f"souci {i}" for i in range(5)]
    assert "concerns" not in service.practice_aggregates({"org_unit": "cd:2437"})
