"""Sentences of the value-entry pages and the dashboard downloads, French
first then English (merged into :data:`gateway.web.messages.MESSAGES`)."""

from __future__ import annotations

ENTRY_MESSAGES: dict[str, tuple[str, str]] = {
    # dashboard downloads
    "ind.no_data": ("Pas encore de données", "No data yet"),
    "ind.no_data_long": (
        "Pas encore de données pour cet indicateur.",
        "No data yet for this indicator.",
    ),
    "ind.download": ("Télécharger", "Download"),
    "ind.download.csv": ("le tableau (CSV)", "the table (CSV)"),
    "ind.download.svg": ("le graphique (SVG)", "the chart (SVG)"),
    "ind.download.of": ("de « {title} »", "of “{title}”"),
    "ind.unknown_indicator": (
        "Indicateur inconnu de ce tableau de bord : « {id} ».",
        "Indicator unknown to this dashboard: “{id}”.",
    ),
    # value entry
    "entry.title": ("Saisie des valeurs", "Value entry"),
    "entry.intro": (
        "Choisissez la municipalité ou la MRC et la période, puis entrez les "
        "valeurs. Le service vérifie chaque valeur comme pour l'API.",
        "Pick the municipality or MRC and the period, then enter the values. "
        "The service checks each value as it does for the API.",
    ),
    "entry.f.unit": ("Municipalité ou MRC", "Municipality or MRC"),
    "entry.f.period": ("Période", "Period"),
    "entry.open": ("Ouvrir le formulaire", "Open the form"),
    "entry.months": ("Mois", "Months"),
    "entry.quarters": ("Trimestres", "Quarters"),
    "entry.years": ("Années", "Years"),
    "entry.whole_mrc": ("{name} (toute la MRC)", "{name} (whole MRC)"),
    "entry.quarter": ("{n}e trimestre {year}", "Quarter {n} {year}"),
    "entry.quarter1": ("1er trimestre {year}", "Quarter 1 {year}"),
    "entry.form_of": ("Valeurs de {unit}, {period}", "Values of {unit}, {period}"),
    "entry.element": ("Élément de donnée", "Data element"),
    "entry.current": ("Valeur enregistrée", "Saved value"),
    "entry.none": ("aucune", "none"),
    "entry.save": ("Enregistrer les valeurs", "Save the values"),
    "entry.saved": (
        "{n} valeur(s) enregistrée(s).",
        "{n} value(s) saved.",
    ),
    "entry.nothing": (
        "Aucune valeur modifiée : rien n'a été enregistré.",
        "No value changed: nothing was saved.",
    ),
    "entry.refused": (
        "Certaines valeurs n'ont pas été enregistrées : voyez les champs nommés.",
        "Some values were not saved: see the fields named.",
    ),
    "entry.warnings": (
        "Avertissements avant l'enregistrement :",
        "Warnings before saving:",
    ),
    "entry.confirm": (
        "Je confirme cette valeur malgré les avertissements",
        "I confirm this value despite the warnings",
    ),
    "entry.unknown_unit": (
        "Choisissez une municipalité ou la MRC de votre compte dans la liste.",
        "Pick a municipality or the MRC of your account from the list.",
    ),
    "entry.unknown_period": (
        "Choisissez une période dans la liste.",
        "Pick a period from the list.",
    ),
    "entry.state": ("État de la période", "State of the period"),
    "entry.state.open": (
        "Ouverte : les valeurs peuvent être saisies et corrigées.",
        "Open: values can be entered and corrected.",
    ),
    "entry.state.locked": (
        "Approuvée ({period}) : les valeurs sont verrouillées et ne peuvent pas "
        "être modifiées. Une désapprobation, avec son motif, la rouvre.",
        "Approved ({period}): values are locked and cannot be edited. An "
        "unapproval, with its reason, opens it again.",
    ),
    "entry.approvers": (
        "Approbation par : {roles}.",
        "Approved by: {roles}.",
    ),
    "entry.approve": ("Approuver la période de la MRC", "Approve the MRC's period"),
    "entry.approve_of": (
        "Approuver {period} pour {mrc}",
        "Approve {period} for {mrc}",
    ),
    "entry.approved": (
        "Période approuvée : les valeurs sont verrouillées et partagées "
        "(petites cellules supprimées).",
        "Period approved: values are locked and shared (small cells suppressed).",
    ),
    "entry.unapprove": ("Désapprouver", "Unapprove"),
    "entry.unapprove_of": (
        "Désapprouver {period} pour {mrc}",
        "Unapprove {period} for {mrc}",
    ),
    "entry.f.reason": (
        "Motif de la désapprobation (obligatoire)",
        "Reason for the unapproval (required)",
    ),
    "entry.reason_needed": (
        "Un motif est requis pour désapprouver.",
        "A reason is required to unapprove.",
    ),
    "entry.unapproved": (
        "Période désapprouvée : les valeurs peuvent de nouveau être corrigées.",
        "Period unapproved: values can be corrected again.",
    ),
    "entry.locked_field": ("verrouillée", "locked"),
    "entry.computed_note": (
        "Les éléments calculés à partir des autres services (listes d'attente, "
        "participation, décisions, services) ne se saisissent pas ici.",
        "Elements computed from the other services (waiting lists, "
        "participation, decisions, services) are not entered here.",
    ),
    "entry.quality": ("Règles de validation", "Validation rules"),
    "entry.quality_ok": (
        "Aucune règle de validation enfreinte pour cette unité et cette période.",
        "No validation rule broken for this unit and period.",
    ),
}
