"""Questionnaires and conditions of practice, as pages.

- ``/questionnaires/<id>``: public, no sign-in, a phone or a kiosk
  (``?borne=1``: after sending, the page offers the next person a fresh form);
  the answer goes through the API's own path (rate limits, anonymous audit).
- ``/questionnaires/<id>/papier``: a practitioner of the questionnaire's MRC
  copies a paper form, with the month it was filled in.
- ``/pratique``: a practitioner's quarterly report (signed in, anonymous).
- ``/pratique/synthese``: what leaves the practitioners' view: aggregates of
  their MRC above the threshold (concerns for the board), beside the services'
  indicators of the MRC's dashboard.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Response

from gateway.audit import record_request
from gateway.routes import indicators as api_routes
from gateway.web.core import page, page_lang, render, settings
from gateway.web.messages import translate
from shared.errors import Conflict, Invalid, TooManyRequests


def _reasons(fields: dict[str, Any], lang: str) -> dict[str, str]:
    out = {}
    for key, value in fields.items():
        text = " ".join(str(v) for v in (value if isinstance(value, list) else [value]))
        if " / " in text:  # the services' "français / English"
            fr, _, en = text.partition(" / ")
            text = en if lang == "en" else fr
        out[str(key)] = text
    return out


def _answers(form: Any, questionnaire: dict[str, Any]) -> dict[str, str]:
    return {
        q["id"]: form.get(f"q-{q['id']}", "")
        for q in questionnaire["questions"]
        if form.get(f"q-{q['id']}", "") not in ("", "skip")
    }


def _months(lang: str) -> list[str]:
    now = datetime.now(UTC)
    out = []
    year, month = now.year, now.month
    for _ in range(12):
        out.append(f"{year}{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def _survey_page(
    ctx: Any,
    questionnaire_id: str,
    paper: bool,
    status: int = 200,
    **values: Any,
) -> Response:
    found = ctx.rpc("indicators", "questionnaire", questionnaire_id)
    return render(
        ctx,
        "survey.html",
        status=status,
        q=found,
        paper=paper,
        kiosk=ctx.request.args.get("borne") == "1",
        months=_months(page_lang(ctx)),
        errors=values.pop("errors", {}),
        **values,
    )


def _post(ctx: Any, questionnaire_id: str, paper: bool) -> Response:
    found = ctx.rpc("indicators", "questionnaire", questionnaire_id)
    lang = page_lang(ctx)
    form = ctx.request.form
    answers = _answers(form, found)
    record_request(ctx, {"answers": "***"})  # anonymous either way
    try:
        if paper:
            done = api_routes.paper_answer(
                ctx,
                questionnaire_id,
                {"answers": answers, "period": form.get("periode", "")},
            )
        else:
            channel = "kiosk" if ctx.request.args.get("borne") == "1" else "web"
            done = api_routes.answer(
                ctx, questionnaire_id, {"answers": answers, "channel": channel}
            )
    except Invalid as exc:
        return _survey_page(
            ctx, questionnaire_id, paper, 422, errors=_reasons(exc.fields, lang)
        )
    except (Conflict, TooManyRequests) as exc:
        return _survey_page(
            ctx,
            questionnaire_id,
            paper,
            409 if isinstance(exc, Conflict) else 429,
            alert=exc.message(lang),
        )
    if paper:
        return _survey_page(
            ctx,
            questionnaire_id,
            paper,
            201,
            notice=translate("survey.paper.done", lang, period=done["period"]),
        )
    return render(
        ctx,
        "survey_thanks.html",
        status=201,
        q=found,
        kiosk=ctx.request.args.get("borne") == "1",
    )


@page("/questionnaires/<questionnaire_id>", action="indicators.read")
def questionnaire(ctx: Any, questionnaire_id: str) -> Response:
    """A questionnaire to answer anonymously (phone or kiosk)."""
    return _survey_page(ctx, questionnaire_id, False)


@page(
    "/questionnaires/<questionnaire_id>",
    ("POST",),
    action="indicators.surveys.answer",
)
def answer(ctx: Any, questionnaire_id: str) -> Response:
    """Answers counted, never kept."""
    return _post(ctx, questionnaire_id, False)


@page(
    "/questionnaires/<questionnaire_id>/papier",
    action="indicators.surveys.enter",
    public=False,
)
def paper_form(ctx: Any, questionnaire_id: str) -> Response:
    """Enter a paper questionnaire."""
    return _survey_page(ctx, questionnaire_id, True)


@page(
    "/questionnaires/<questionnaire_id>/papier",
    ("POST",),
    action="indicators.surveys.enter",
    public=False,
)
def paper_post(ctx: Any, questionnaire_id: str) -> Response:
    """A paper questionnaire counted for its month."""
    return _post(ctx, questionnaire_id, True)


def _threshold() -> int:
    return int(settings.get("SUPPRESSION_THRESHOLD") or 5)


def _practice_page(ctx: Any, status: int = 200, **values: Any) -> Response:
    state = ctx.rpc("indicators", "practice_status", {"account": ctx.user["sub"]})
    return render(
        ctx,
        "practice.html",
        status=status,
        periods=state["periods"],
        threshold=_threshold(),
        errors=values.pop("errors", {}),
        form=values.pop("form", {}),
        **values,
    )


@page("/pratique", action="indicators.practice.report", public=False)
def practice(ctx: Any) -> Response:
    """A practitioner's quarterly report on their conditions of practice."""
    return _practice_page(ctx)


@page("/pratique", ("POST",), action="indicators.practice.report", public=False)
def practice_post(ctx: Any) -> Response:
    """The report, kept apart from any trace of the account."""
    lang = page_lang(ctx)
    form = ctx.request.form
    body = {
        "caseload": form.get("caseload", ""),
        "admin_share": form.get("admin_share", ""),
        "supervision": form.get("supervision", ""),
        "concerns": form.get("concerns", ""),
        "period": form.get("period") or None,
    }
    record_request(ctx, {"report": "***"})
    try:
        done = api_routes.report(ctx, body)
    except Invalid as exc:
        shown = {k: v for k, v in body.items() if k != "concerns"}
        return _practice_page(ctx, 422, errors=_reasons(exc.fields, lang), form=shown)
    except Conflict as exc:
        return _practice_page(ctx, 409, alert=exc.message(lang))
    return _practice_page(
        ctx, 201, notice=translate("practice.sent", lang, period=done["period"])
    )


@page("/pratique/synthese", action="indicators.practice.read", public=False)
def practice_summary(ctx: Any) -> Response:
    """Aggregates above the threshold, beside the services' indicators."""
    lang = page_lang(ctx)
    state = ctx.rpc("indicators", "practice_status", {"account": ctx.user["sub"]})
    periods = [p["period"] for p in state["periods"]]
    summaries = [api_routes.practice_aggregates(ctx, p) for p in periods]
    mrc = ctx.user.get("mrc") or ""
    dashboard = ctx.rpc("indicators", "dashboard", {"org_unit": mrc, "lang": lang})
    return render(
        ctx,
        "practice_summary.html",
        summaries=summaries,
        dashboard=dashboard,
        threshold=_threshold(),
    )
