"""Sentences of the federation and roll-up pages, French first then English
(merged into :data:`gateway.web.messages.MESSAGES`)."""

from __future__ import annotations

FEDERATION_MESSAGES: dict[str, tuple[str, str]] = {
    "fed.title": ("Fédération", "Federation"),
    "fed.node": ("Ce nœud : {node}", "This node: {node}"),
    "fed.not_federated": (
        "Ce nœud n'est relié à aucun courtier pair (aucune adresse de gestion "
        "dans sa configuration) : l'état des liens est inconnu.",
        "This node is linked to no peer broker (no management address in its "
        "configuration): link states are unknown.",
    ),
    "fed.links": ("Pairs et liens", "Peers and links"),
    "fed.peer": ("Pair", "Peer"),
    "fed.direction": ("Sens", "Direction"),
    "fed.dir.in": ("reçoit de ce pair", "receives from this peer"),
    "fed.dir.out": ("envoie à ce pair", "sends to this peer"),
    "fed.state": ("État du lien", "Link state"),
    "fed.waiting": ("Messages en attente (retard)", "Messages waiting (lag)"),
    "fed.last_seen": ("Dernier événement reçu", "Last event received"),
    "fed.no_links": ("Aucun lien.", "No link."),
    "fed.agreements": ("Ententes de partage", "Data-sharing agreements"),
    "fed.agreements_intro": (
        "Ce que ce nœud partage, avec qui, à quel seuil et jusqu'à quand. Les "
        "ententes sont dans la configuration du nœud et prennent effet quand "
        "l'instance les adopte.",
        "What this node shares, with whom, at what threshold and until when. "
        "Agreements are in the node's configuration and take effect when the "
        "board adopts them.",
    ),
    "fed.no_agreements": ("Aucune entente.", "No agreement."),
    "fed.shared": ("Ce qui est partagé", "What is shared"),
    "fed.fields": ("champs : {fields}", "fields: {fields}"),
    "fed.threshold": ("Seuil de suppression", "Suppression threshold"),
    "fed.aggregates": ("Agrégats seulement", "Aggregates only"),
    "fed.validity": ("Validité", "Validity"),
    "fed.valid_span": ("du {start} au {end}", "from {start} to {end}"),
    "fed.no_end": ("sans fin", "no end"),
    "fed.valid_now": ("en vigueur", "in force"),
    "fed.not_valid_now": ("pas en vigueur", "not in force"),
    "fed.received": ("Événements reçus", "Events received"),
    "fed.no_received": ("Aucun événement reçu.", "No event received."),
    "fed.type": ("Type d'événement", "Event type"),
    "fed.count": ("Nombre", "Count"),
    "fed.last": ("Dernier", "Latest"),
    "fed.refused": ("Événements refusés, par motif", "Events refused, by reason"),
    "fed.no_refused": ("Aucun événement refusé.", "No event refused."),
    "fed.reason": ("Motif", "Reason"),
    "fed.by_day": ("Refus par jour", "Refusals by day"),
    "fed.day": ("Jour", "Day"),
    "fed.last_refused": ("Derniers refus", "Latest refusals"),
    "fed.at": ("Quand", "When"),
    "fed.detail": ("Détail", "Detail"),
    "fed.unknown_peer": ("expéditeur inconnu", "unknown sender"),
    "fed.to_rollups": ("Cumuls régionaux", "Regional roll-ups"),
    "fed.type.indicators.values_approved": (
        "Valeurs d'indicateurs approuvées",
        "Approved indicator values",
    ),
    "fed.type.indicators.values_unapproved": (
        "Approbations retirées",
        "Approvals withdrawn",
    ),
    "fed.type.indicators.rollup_published": (
        "Cumul régional publié",
        "Regional roll-up published",
    ),
    "fed.type.participation.results_published": (
        "Résultats de participation publiés",
        "Participation results published",
    ),
    "fed.reason.malformed": ("message illisible", "unreadable message"),
    "fed.reason.unknown_peer": ("expéditeur inconnu", "unknown sender"),
    "fed.reason.unsigned": ("non signé", "unsigned"),
    "fed.reason.wrong_key": ("clé inattendue", "unexpected key"),
    "fed.reason.bad_signature": ("signature invalide", "invalid signature"),
    "fed.reason.type_not_agreed": (
        "type hors entente",
        "type outside the agreement",
    ),
    "fed.reason.agreement_expired": ("entente échue", "agreement expired"),
    "fed.reason.field_not_agreed": (
        "champ hors entente",
        "field outside the agreement",
    ),
    "fed.reason.small_cell": (
        "petite cellule non supprimée",
        "small cell not suppressed",
    ),
    "fed.reason.not_aggregate": ("pas un agrégat", "not an aggregate"),
    "fed.reason.suppressed": ("supprimé", "suppressed"),
    "fed.reason.no_agreement": ("aucune entente", "no agreement"),
    "fed.reason.not_addressed": ("sans destinataire", "not addressed"),
    "fed.reason.wrong_recipient": ("autre destinataire", "another recipient"),
    "fed.reason.wrong_agreement": ("autre entente", "another agreement"),
    "fed.reason.occurred_in_future": ("daté dans le futur", "dated in the future"),
    "fed.reason.outside_territory": (
        "hors du territoire de l'expéditeur",
        "outside the sender's territory",
    ),
    # roll-ups
    "fed.rollups": ("Cumuls régionaux", "Regional roll-ups"),
    "fed.rollups_intro": (
        "Ce que chaque MRC a envoyé (déjà supprimé par elle), puis le cumul "
        "régional, supprimé de nouveau au seuil de ce nœud.",
        "What each MRC sent (already suppressed by it), then the regional "
        "roll-up, suppressed again at this node's threshold.",
    ),
    "fed.f.element": ("Élément de donnée", "Data element"),
    "fed.f.period": ("Période", "Period"),
    "fed.show": ("Afficher", "Show"),
    "fed.sent_of": ("Envoyé pour {element}, {period}", "Sent for {element}, {period}"),
    "fed.nothing_sent": (
        "Aucune MRC n'a encore envoyé de valeurs approuvées.",
        "No MRC has sent approved values yet.",
    ),
    "fed.mrc": ("MRC", "MRC"),
    "fed.sender": ("Envoyé par", "Sent by"),
    "fed.total": ("Total de la MRC", "MRC total"),
    "fed.parts": ("Cellules envoyées", "Cells sent"),
    "fed.suppressed": ("supprimé", "suppressed"),
    "fed.publish": ("Publier le cumul régional", "Publish the regional roll-up"),
    "fed.publish_of": (
        "Publier le cumul de {element}, {period}",
        "Publish the roll-up of {element}, {period}",
    ),
    "fed.published_now": (
        "Cumul publié : {element}, {period} (seuil {threshold}).",
        "Roll-up published: {element}, {period} (threshold {threshold}).",
    ),
    "fed.published": ("Cumuls publiés", "Published roll-ups"),
    "fed.none_published": ("Aucun cumul publié.", "No roll-up published."),
    "fed.unit": ("Territoire", "Territory"),
    "fed.value": ("Valeur", "Value"),
    "fed.mrcs_of": (
        "{n} MRC sur {total}",
        "{n} MRC of {total}",
    ),
    "fed.rollup_refused": (
        "Le cumul n'a pas été publié : voyez les champs nommés.",
        "The roll-up was not published: see the fields named.",
    ),
    "fed.rollup_nothing": (
        "Rien à cumuler : aucune MRC n'a envoyé cet élément pour cette période.",
        "Nothing to roll up: no MRC sent this element for this period.",
    ),
}
