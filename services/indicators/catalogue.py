"""The starter catalogue: what social practice does, not only counts of files.

Each data element and indicator has a name and a definition in French and
English that a board member can read. Counts of people or actions are marked
``is_count`` (they are what small-cell suppression protects). The elements
marked *computed* are filled from other services' events; the others are
entered by hand or imported (``maillage indicators import``).

    {"id": "home_interventions_per_10k", "numerator": "#{home_interventions}",
     "denominator": "#{population}", "factor": 10000}
"""

from __future__ import annotations

from services.indicators.domain import AggregationType, DataElement, ValueType
from services.indicators.expression import Indicator

_INT = ValueType.INTEGER
_SUM = AggregationType.SUM
_LAST = AggregationType.LAST


def _count(id_: str, fr: str, en: str, def_fr: str, def_en: str, agg=_SUM):
    return DataElement(id_, _INT, agg, fr, en, def_fr, def_en, is_count=True)


DATA_ELEMENTS: dict[str, DataElement] = {
    e.id: e
    for e in [
        _count(
            "home_interventions",
            "Interventions à domicile",
            "Home interventions",
            "Interventions d'une intervenante ou d'un intervenant social faites au "
            "domicile de la personne, pendant le mois.",
            "Interventions by a social worker made at the person's home, in the month.",
        ),
        _count(
            "community_interventions",
            "Interventions collectives et communautaires",
            "Community and group interventions",
            "Activités de groupe, d'action communautaire ou de développement des "
            "communautés animées ou soutenues pendant le mois.",
            "Group activities, community action or community development led or "
            "supported in the month.",
        ),
        _count(
            "advocacy_actions",
            "Actions de défense des droits",
            "Advocacy actions",
            "Démarches faites avec ou pour une personne ou un groupe afin de faire "
            "reconnaître ou respecter ses droits (plainte, accompagnement, recours).",
            "Steps taken with or for a person or group to have their rights "
            "recognised or respected (complaint, accompaniment, appeal).",
        ),
        _count(
            "outreach_interventions",
            "Interventions hors les murs",
            "Interventions outside the walls",
            "Interventions faites là où sont les personnes (rue, parc, milieu de vie, "
            "travail de milieu), hors des bureaux de l'établissement.",
            "Interventions made where people are (street, park, living places, "
            "outreach work), outside the organisation's offices.",
        ),
        _count(
            "waiting_people",
            "Personnes en liste d'attente",
            "People on waiting lists",
            "Personnes inscrites sur la liste d'attente d'un service à la fin du "
            "mois (calculé : offerings.waiting_list_changed, dernière valeur).",
            "People on a service's waiting list at the end of the month (computed: "
            "offerings.waiting_list_changed, last value).",
            _LAST,
        ),
        DataElement(
            "waiting_days",
            ValueType.NUMBER,
            _LAST,
            "Jours d'attente cumulés",
            "Days waited, all people",
            "Personnes en attente multipliées par le délai d'attente typique du "
            "service, en jours (calculé, dernière valeur du mois).",
            "People waiting times the service's typical wait, in days (computed, "
            "last value of the month).",
        ),
        _count(
            "services_without_referral",
            "Services sans référence",
            "Services available without referral",
            "Services de proximité ouverts auxquels on peut s'adresser sans être "
            "référé, à la fin du mois.",
            "Open proximity services people can use without a referral, at the end "
            "of the month.",
            _LAST,
        ),
        DataElement(
            "population",
            ValueType.INTEGER,
            _LAST,
            "Population",
            "Population",
            "Nombre de résidents (dernier recensement ou estimation de l'ISQ).",
            "Number of residents (latest census or ISQ estimate).",
        ),
        _count(
            "participation_ballots",
            "Bulletins reçus",
            "Ballots cast",
            "Bulletins reçus dans les démarches de participation closes pendant le "
            "mois (calculé : participation.results_published).",
            "Ballots received in participation processes closed in the month "
            "(computed: participation.results_published).",
        ),
        _count(
            "participation_turnout_ballots",
            "Bulletins reçus (électorat déclaré)",
            "Ballots cast (declared electorate)",
            "Bulletins reçus dans les démarches closes pendant le mois qui ont "
            "déclaré leur nombre de personnes admissibles (calculé : "
            "participation.results_published).",
            "Ballots cast in the processes closed in the month that declared how "
            "many people could vote (computed: participation.results_published).",
        ),
        DataElement(
            "participation_eligible",
            ValueType.INTEGER,
            _SUM,
            "Personnes admissibles",
            "Eligible people",
            "Personnes admissibles déclarées par les démarches closes pendant le "
            "mois (calculé : eligible_count de participation.results_published).",
            "Eligible people declared by the processes closed in the month "
            "(computed: eligible_count of participation.results_published).",
        ),
        _count(
            "decisions_due",
            "Décisions à échéance",
            "Decisions due",
            "Décisions d'instance dont l'échéance de suivi tombe dans le mois "
            "(calculé : boards.decision_status_changed).",
            "Board decisions whose follow-up is due in the month (computed: "
            "boards.decision_status_changed).",
        ),
        _count(
            "decisions_done_on_time",
            "Décisions suivies à temps",
            "Decisions followed up on time",
            "Parmi les décisions à échéance dans le mois, celles réalisées au plus "
            "tard à l'échéance.",
            "Of the decisions due in the month, those done by their due date.",
        ),
    ]
}

INDICATORS: dict[str, Indicator] = {
    i.id: i
    for i in [
        Indicator(
            "home_interventions_per_10k",
            "#{home_interventions}",
            "#{population}",
            10000,
            "Interventions à domicile pour 10 000 résidents",
            "Home interventions per 10,000 residents",
            "Interventions à domicile de la période rapportées à la population.",
            "Home interventions in the period relative to the population.",
        ),
        Indicator(
            "collective_share",
            "#{community_interventions}",
            "#{home_interventions} + #{community_interventions} "
            "+ #{outreach_interventions}",
            100,
            "Part collective de l'intervention (%)",
            "Share of collective interventions (%)",
            "Interventions collectives et communautaires sur l'ensemble des "
            "interventions : ce que le travail social fait au-delà des dossiers.",
            "Community and group interventions over all interventions: what social "
            "work does beyond individual files.",
        ),
        Indicator(
            "outreach_share",
            "#{outreach_interventions}",
            "#{home_interventions} + #{community_interventions} "
            "+ #{outreach_interventions}",
            100,
            "Part de l'intervention hors les murs (%)",
            "Share of interventions outside the walls (%)",
            "Interventions hors les murs sur l'ensemble des interventions.",
            "Interventions outside the walls over all interventions.",
        ),
        Indicator(
            "advocacy_actions",
            "#{advocacy_actions}",
            "1",
            1,
            "Actions de défense des droits",
            "Advocacy actions",
            "Nombre d'actions de défense des droits dans la période.",
            "Number of advocacy actions in the period.",
        ),
        Indicator(
            "waiting_people",
            "#{waiting_people}",
            "1",
            1,
            "Personnes en liste d'attente",
            "People on waiting lists",
            "Personnes en attente à la fin de la période, tous services.",
            "People waiting at the end of the period, all services.",
        ),
        Indicator(
            "average_days_waited",
            "#{waiting_days}",
            "#{waiting_people}",
            1,
            "Attente moyenne (jours)",
            "Average wait (days)",
            "Jours d'attente cumulés sur le nombre de personnes en attente.",
            "Days waited, all people, over the number of people waiting.",
        ),
        Indicator(
            "services_without_referral_per_10k",
            "#{services_without_referral}",
            "#{population}",
            10000,
            "Services sans référence pour 10 000 résidents",
            "Services without referral per 10,000 residents",
            "Services accessibles sans référence rapportés à la population.",
            "Services available without referral relative to the population.",
        ),
        Indicator(
            "participation_rate",
            "#{participation_turnout_ballots}",
            "#{participation_eligible}",
            100,
            "Taux de participation (%)",
            "Participation rate (turnout, %)",
            "Bulletins reçus sur les personnes admissibles, démarches closes dans "
            "la période qui ont déclaré leur nombre de personnes admissibles.",
            "Ballots cast over eligible people, processes closed in the period "
            "that declared how many people could vote.",
        ),
        Indicator(
            "decisions_on_time_rate",
            "#{decisions_done_on_time}",
            "#{decisions_due}",
            100,
            "Décisions suivies à temps (%)",
            "Decisions followed up on time (%)",
            "Décisions réalisées au plus tard à l'échéance sur les décisions à "
            "échéance dans la période.",
            "Decisions done by their due date over the decisions due in the period.",
        ),
    ]
}
