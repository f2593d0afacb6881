"""Sentences of the agenda-building and documents parts of the board pages,
French first then English; merged into :data:`gateway.web.messages.MESSAGES`
when :mod:`gateway.web.boards_run` is imported."""

from __future__ import annotations

AGENDA_MESSAGES: dict[str, tuple[str, str]] = {
    "ba.proposed": ("Proposition à accepter", "Proposal to accept"),
    "ba.accept": ("Accepter « {title} »", 'Accept "{title}"'),
    "ba.refuse": ("Refuser « {title} »", 'Refuse "{title}"'),
    "ba.refuse_short": ("Refuser", "Refuse"),
    "ba.reason": (
        "Motif du refus (la personne qui l'a proposé le lira)",
        "Reason for refusing (its proposer will read it)",
    ),
    "ba.up": ("Monter « {title} »", 'Move "{title}" up'),
    "ba.down": ("Descendre « {title} »", 'Move "{title}" down'),
    "ba.open": ("Ouvrir le point « {title} »", 'Open item "{title}"'),
    "ba.close": ("Clore le point « {title} »", 'Close item "{title}"'),
    "ba.discussion.open": ("En cours", "Under discussion"),
    "ba.discussion.closed": ("Clos", "Closed"),
    "ba.refused_h": ("Propositions refusées", "Refused proposals"),
    "ba.refused_item": (
        "« {title} » — refusée : {reason}",
        '"{title}" — refused: {reason}',
    ),
    "ba.yours": ("votre proposition", "your proposal"),
    "ba.motion_open": (
        "Une proposition est en cours : on en propose une autre une fois son "
        "vote clos.",
        "A motion is open: another may be moved once its vote is closed.",
    ),
    "ba.resolution": ("Résolution n° {number}", "Resolution no. {number}"),
    "ba.documents": ("Documents", "Documents"),
    "ba.no_documents": ("Aucun document joint.", "No document attached."),
    "ba.attach": ("Joindre un document", "Attach a document"),
    "ba.file": (
        "Fichier (PDF, image, document de bureautique ; {mb} Mo au plus)",
        "File (PDF, image, office document; {mb} MB at most)",
    ),
    "ba.attach_to": ("Joindre à", "Attach to"),
    "ba.to_minutes": ("Procès-verbal", "Minutes"),
    "ba.do_attach": ("Joindre", "Attach"),
    "ba.doc_of_minutes": ("joint au procès-verbal", "attached to the minutes"),
    "ba.doc_of_item": ("joint au point « {title} »", 'attached to item "{title}"'),
    "ba.size": ("{kb} ko", "{kb} KB"),
    "ba.no_file": ("Choisissez un fichier à joindre.", "Choose a file to attach."),
}
