"""Sentences of the catalogue pages, French first then English (merged into
:data:`gateway.web.messages.MESSAGES`)."""

from __future__ import annotations

CATALOGUE_MESSAGES: dict[str, tuple[str, str]] = {
    "cat.title": ("Catalogue des indicateurs", "Indicator catalogue"),
    "cat.intro": (
        "Ce que le territoire mesure, défini par son conseil : chaque version est "
        "publique, avec la résolution qui l'a adoptée.",
        "What the territory measures, defined by its board: every version is "
        "public, with the resolution that adopted it.",
    ),
    "cat.elements": ("Éléments de données", "Data elements"),
    "cat.indicators": ("Indicateurs", "Indicators"),
    "cat.proposed": (
        "Propositions en attente du conseil",
        "Proposals awaiting the board",
    ),
    "cat.none": ("Aucune.", "None."),
    "cat.new": ("Proposer ou définir", "Propose or define"),
    "cat.back": ("Retour au catalogue", "Back to the catalogue"),
    "cat.history": ("Versions de « {id} »", "Versions of “{id}”"),
    "cat.col.name": ("Nom", "Name"),
    "cat.col.version": ("Version", "Version"),
    "cat.col.status": ("État", "Status"),
    "cat.col.detail": ("Définition", "Definition"),
    "cat.col.digest": ("Empreinte", "Digest"),
    "cat.status.adopted": ("en vigueur", "in force"),
    "cat.status.proposed": ("proposée", "proposed"),
    "cat.status.refused": ("refusée", "refused"),
    "cat.status.retired": ("retirée", "retired"),
    "cat.resolution": ("résolution {number}", "resolution {number}"),
    "cat.by_categories": ("Ventilé par : {names}", "Broken down by: {names}"),
    "cat.done.proposed": (
        "Proposition enregistrée et inscrite à l'ordre du jour : elle entre en "
        "vigueur quand le conseil l'adopte par résolution.",
        "Proposal recorded and placed on the agenda: it takes effect when the "
        "board adopts it by resolution.",
    ),
    "cat.done.defined": ("Définition en vigueur.", "Definition in force."),
    "cat.form_intro_propose": (
        "Votre proposition sera inscrite à l'ordre du jour d'une réunion de votre "
        "conseil ; elle n'entre en vigueur qu'à son adoption par résolution.",
        "Your proposal goes on the agenda of a meeting of your board; it takes "
        "effect only once adopted by resolution.",
    ),
    "cat.form_intro_define": (
        "En tant qu'administration du nœud, votre définition entre en vigueur "
        "immédiatement.",
        "As the node administrator, your definition takes effect at once.",
    ),
    "cat.f.kind": ("Quoi", "What"),
    "cat.kind.data_element": ("Un élément de données", "A data element"),
    "cat.kind.indicator": ("Un indicateur", "An indicator"),
    "cat.f.id": (
        "Identifiant (minuscules, chiffres, _)",
        "Identifier (lower case, digits, _)",
    ),
    "cat.f.name_fr": ("Nom en français", "Name in French"),
    "cat.f.name_en": ("Nom en anglais", "Name in English"),
    "cat.f.definition_fr": ("Définition en français", "Definition in French"),
    "cat.f.definition_en": ("Définition en anglais", "Definition in English"),
    "cat.f.use_fr": ("Usage prévu, en français", "Intended use, in French"),
    "cat.f.use_en": ("Usage prévu, en anglais", "Intended use, in English"),
    "cat.f.element": ("Élément de données", "Data element"),
    "cat.f.type": ("Type de valeur", "Value type"),
    "cat.type.integer": ("nombre entier (dénombrement)", "whole number (count)"),
    "cat.type.number": ("nombre", "number"),
    "cat.type.percentage": ("pourcentage", "percentage"),
    "cat.f.min": ("Minimum attendu (facultatif)", "Expected minimum (optional)"),
    "cat.f.max": ("Maximum attendu (facultatif)", "Expected maximum (optional)"),
    "cat.f.existing": (
        "Ventiler par des catégories existantes",
        "Break down by existing categories",
    ),
    "cat.f.new_category": ("Ou déclarer une catégorie", "Or declare a category"),
    "cat.f.cat_id": ("Identifiant de la catégorie", "Category identifier"),
    "cat.f.cat_name_fr": ("Nom de la catégorie en français", "Category name in French"),
    "cat.f.cat_name_en": ("Nom de la catégorie en anglais", "Category name in English"),
    "cat.f.cat_options": ("Options, une par ligne", "Options, one per line"),
    "cat.f.cat_options_hint": (
        "identifiant | nom en français | nom en anglais, p. ex. « 0_17 | 0-17 ans | "
        "0-17 years »",
        "identifier | French name | English name, e.g. “0_17 | 0-17 ans | 0-17 years”",
    ),
    "cat.f.indicator": ("Indicateur", "Indicator"),
    "cat.f.formula_hint": (
        "Formules : #{élément}, #{élément.combinaison}, + - * / et parenthèses.",
        "Formulas: #{element}, #{element.combo}, + - * / and parentheses.",
    ),
    "cat.f.numerator": ("Numérateur", "Numerator"),
    "cat.f.denominator": ("Dénominateur (facultatif)", "Denominator (optional)"),
    "cat.f.factor": (
        "Facteur (100 pour un pourcentage)",
        "Factor (100 for a percentage)",
    ),
    "cat.preview": ("Aperçu de la valeur", "Preview the value"),
    "cat.preview.value": (
        "Valeur sur les données publiées de votre MRC en {period} : {value}",
        "Value over your MRC's published data in {period}: {value}",
    ),
    "cat.preview.suppressed": (
        "Valeur supprimée en {period} : elle toucherait une petite cellule.",
        "Value suppressed in {period}: it would touch a small cell.",
    ),
    "cat.preview.none": (
        "Pas de données publiées en {period}.",
        "No published data in {period}.",
    ),
    "cat.preview.refused": ("Formule refusée :", "Formula refused:"),
    "cat.f.meeting": ("Réunion de votre conseil", "Meeting of your board"),
    "cat.f.meeting_pick": ("— choisir —", "— pick one —"),
    "cat.propose": ("Proposer au conseil", "Propose to the board"),
    "cat.define": ("Définir", "Define"),
}
