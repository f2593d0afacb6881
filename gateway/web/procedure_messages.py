"""Sentences of the deliberation pages (``gateway.web.boards_procedure``),
French first then English; merged into :data:`gateway.web.messages.MESSAGES`.

The engine's rules (``services.boards.procedure``) are named here by what a
meeting calls them (``pr.rule.<rule>``), so a refusal never shows an id.
"""

from __future__ import annotations

RULES: dict[str, tuple[str, str]] = {
    "already_seconded": ("Déjà appuyée", "Already seconded"),
    "already_waiting": ("Déjà inscrit·e pour parler", "Already on the speakers' list"),
    "amendment_changes_nothing": (
        "Un amendement change le texte",
        "An amendment changes the text",
    ),
    "amendment_target": (
        "Ce qu'un amendement peut viser",
        "What an amendment may amend",
    ),
    "appeal_at_once": (
        "L'appel suit aussitôt la décision",
        "An appeal follows the ruling at once",
    ),
    "committee_required": (
        "Le renvoi nomme le comité",
        "A referral names the committee",
    ),
    "count_exceeds_present": (
        "Pas plus de votes que de membres présents",
        "No more votes than members present",
    ),
    "count_required": (
        "Les nombres de la main levée avant la clôture",
        "Show-of-hands counts before closing",
    ),
    "debate_closed": (
        "Débat clos par la question préalable",
        "Debate closed by the previous question",
    ),
    "floor_taken": ("Une personne a déjà la parole", "Someone already has the floor"),
    "mover_withdraws": (
        "Seul le proposeur retire sa proposition",
        "Only the mover withdraws a motion",
    ),
    "negation_point": (
        "Objection de négation d'un amendement",
        "Objection that an amendment negates",
    ),
    "no_point_pending": ("Aucun point à trancher", "No point to rule on"),
    "no_sub_sub_amendment": (
        "Pas de sous-sous-amendement",
        "No sub-sub-amendment",
    ),
    "no_vote_open": ("Aucun vote ouvert", "No vote open"),
    "nobody_speaking": ("Personne n'a la parole", "Nobody has the floor"),
    "nobody_waiting": ("Personne n'a demandé la parole", "Nobody asked for the floor"),
    "not_debatable": ("Proposition non débattable", "Motion not debatable"),
    "nothing_on_the_floor": (
        "Aucune question devant l'assemblée",
        "No question before the meeting",
    ),
    "one_amendment_at_a_time": (
        "Un seul amendement à la fois",
        "One amendment at a time",
    ),
    "one_main_motion": (
        "Une seule proposition principale par point",
        "One main motion per item",
    ),
    "one_procedural_at_a_time": (
        "Une seule proposition de procédure à la fois",
        "One procedural motion at a time",
    ),
    "one_sub_amendment_at_a_time": (
        "Un seul sous-amendement à la fois",
        "One sub-amendment at a time",
    ),
    "one_vote_per_member": ("Un vote par membre", "One vote per member"),
    "point_ground": ("Motif d'un point d'ordre", "Ground of a point of order"),
    "point_kind": ("Point d'ordre ou de privilège", "Point of order or of privilege"),
    "point_pending": (
        "La présidence tranche d'abord le point soulevé",
        "The chair rules on the point first",
    ),
    "procedure_closed": ("Point déjà décidé", "Item already decided"),
    "quorum_unknown": (
        "Quorum vérifié avant chaque vote",
        "Quorum checked before each vote",
    ),
    "reconsideration_needs_decision": (
        "On ne reconsidère qu'une décision prise",
        "Only a decision taken is reconsidered",
    ),
    "reconsideration_window": (
        "Reconsidération à la même séance ou à la suivante",
        "Reconsideration at the same or the next meeting",
    ),
    "right_of_reply": ("Droit de réplique du proposeur", "The mover's right of reply"),
    "seconded_before_debate": (
        "Appui avant le débat",
        "Seconded before debate",
    ),
    "seconder_not_mover": (
        "L'appuyeur n'est pas le proposeur",
        "The seconder is not the mover",
    ),
    "secret_ballot_not_allowed": (
        "Vote secret seulement si la charte le permet",
        "Secret ballot only if the charter allows it",
    ),
    "span_out_of_text": ("Changement hors du texte", "Change outside the text"),
    "speak_once": ("Une intervention par question", "One turn per question"),
    "sub_amendment_needs_words": (
        "Un sous-amendement modifie des mots de l'amendement",
        "A sub-amendment changes words of the amendment",
    ),
    "text_required": (
        "Texte de la proposition requis",
        "The motion's text is required",
    ),
    "time_limit": ("Durée des interventions", "Time limit of a turn"),
    "unknown_action": ("Geste inconnu de la procédure", "Unknown move"),
    "unknown_procedural_motion": (
        "Proposition de procédure inconnue",
        "Unknown procedural motion",
    ),
    "unknown_question": ("Question inconnue", "Unknown question"),
    "unknown_rule": ("Règle qu'on peut suspendre", "A rule that may be suspended"),
    "vote_in_progress": ("Un vote est en cours", "A vote is in progress"),
    "vote_method": (
        "Qui vote, selon le mode de scrutin",
        "Who votes, by voting method",
    ),
    "vote_order": (
        "Ordre des votes : la question la plus récente d'abord",
        "Order of votes: the innermost question first",
    ),
}

PROCEDURE_MESSAGES: dict[str, tuple[str, str]] = {
    **{f"pr.rule.{k}": v for k, v in RULES.items()},
    "pr.someone": ("un membre", "a member"),
    "pr.a_question": ("une question", "a question"),
    "pr.number": (" n° {n}", " no. {n}"),
    "pr.ruling_n": (
        "la décision n° {n} de la présidence",
        "the chair's ruling no. {n}",
    ),
    "pr.change.replace": (
        "remplacer « {old} » par « {new} »",
        "replace “{old}” with “{new}”",
    ),
    "pr.change.delete": ("retrancher « {old} »", "strike out “{old}”"),
    "pr.change.insert": (
        "ajouter « {new} » après « {after} »",
        "add “{new}” after “{after}”",
    ),
    "pr.change.insert_start": (
        "ajouter « {new} » au début",
        "add “{new}” at the start",
    ),
    "pr.change.insert_end": ("ajouter « {new} » à la fin", "add “{new}” at the end"),
    "pr.change.full": (
        "remplacer tout le texte par « {new} »",
        "replace the whole text with “{new}”",
    ),
    "pr.qstatus.moved": ("en attente d'appui", "waiting for a seconder"),
    "pr.qstatus.open": ("appuyée, devant l'assemblée", "seconded, before the meeting"),
    "pr.qstatus.adopted": ("adoptée", "adopted"),
    "pr.qstatus.rejected": ("rejetée", "rejected"),
    "pr.qstatus.withdrawn": ("retirée par son proposeur", "withdrawn by its mover"),
    "pr.qstatus.lapsed": ("morte faute d'appui", "lapsed for want of a seconder"),
    "pr.qstatus.ruled_out": ("jugée irrecevable", "ruled out of order"),
    "pr.item.open": ("En délibération", "Under deliberation"),
    "pr.item.adopted": ("Adopté", "Adopted"),
    "pr.item.rejected": ("Rejeté", "Rejected"),
    "pr.item.postponed": ("Reporté", "Postponed"),
    "pr.item.referred": ("Renvoyé à un comité", "Referred to a committee"),
    "pr.item.adjourned": ("Séance ajournée", "Meeting adjourned"),
    "pr.until": ("au {day}", "to {day}"),
    "pr.indefinitely": ("indéfiniment", "indefinitely"),
    "pr.to_committee": ("au comité « {committee} »", "to the committee “{committee}”"),
    "pr.two_thirds_needed": (
        "sans débat, aux deux tiers des voix exprimées",
        "without debate, by two thirds of the votes cast",
    ),
    "pr.minutes_limit": ("{n} min par intervention", "{n} min per turn"),
    "pr.method.show_of_hands": ("à main levée", "by show of hands"),
    "pr.method.roll_call": ("par appel nominal", "by roll call"),
    "pr.method.secret": ("au scrutin secret", "by secret ballot"),
    "pr.point.order": ("Point d'ordre", "Point of order"),
    "pr.point.privilege": ("Point de privilège", "Point of privilege"),
    "pr.well_founded": ("fondé", "well founded"),
    "pr.not_founded": ("non fondé", "not well founded"),
    "pr.h.moved": ("{what} proposée par {who}", "{what} moved by {who}"),
    "pr.h.seconded": (", appuyée par {who}.", ", seconded by {who}."),
    "pr.h.vote": (
        "Vote {method} sur : {what} — {result} ({f} pour, {a} contre, {ab} abstention(s)).",
        "Vote {method} on: {what} — {result} ({f} for, {a} against, {ab} abstaining).",
    ),
    "pr.h.ruling": ("Point tranché : {what}.", "Point ruled on: {what}."),
    "pr.adopted": ("adoptée", "adopted"),
    "pr.rejected": ("rejetée", "rejected"),
    "pr.f.mots": ("Mots visés", "Words aimed at"),
    "pr.f.texte": ("Nouveaux mots ou nouveau texte", "New words or new text"),
    "pr.f.op": ("Genre de modification", "Kind of change"),
    "pr.f.text": ("Texte", "Text"),
    "pr.f.until": ("Reporter au", "Postpone to"),
    "pr.f.committee": ("Comité", "Committee"),
    "pr.f.rule_name": ("Règle suspendue", "Rule suspended"),
    "pr.f.for": ("Pour", "For"),
    "pr.f.against": ("Contre", "Against"),
    "pr.f.abstain": ("Abstentions", "Abstaining"),
    "pr.f.votes_for": ("Pour", "For"),
    "pr.f.votes_against": ("Contre", "Against"),
    "pr.f.abstentions": ("Abstentions", "Abstaining"),
    "pr.f.choice": ("Vote", "Vote"),
    "pr.f.method": ("Mode de scrutin", "Voting method"),
    "pr.f.requested_by": ("Demandé par", "Asked for by"),
    "pr.f.reason": ("Motif de la décision", "Reason for the ruling"),
    "pr.f.kind": ("Genre", "Kind"),
    "pr.f.member_id": ("Membre", "Member"),
    "pr.f.target_id": ("Question visée", "Question aimed at"),
    "pr.f.change": ("Modification", "Change"),
    "pr.f._schema": ("Formulaire", "Form"),
    "pr.err.op": (
        "choisissez remplacer, ajouter, retrancher ou un nouveau texte",
        "choose replace, add, strike out or a whole new text",
    ),
    "pr.err.words_missing": (
        "les mots « {words} » ne figurent pas tels quels dans le texte : "
        "copiez-les du texte",
        "the words “{words}” are not in the text as written: copy them from the text",
    ),
    "pr.err.words_twice": (
        "les mots « {words} » paraissent {n} fois : ajoutez un mot voisin pour "
        "n'en viser qu'une",
        "the words “{words}” appear {n} times: add a word next to them to aim "
        "at one only",
    ),
    # the item's page
    "pr.title": ("Délibération", "Deliberation"),
    "pr.back_meeting": ("Retour à la séance", "Back to the meeting"),
    "pr.projector": (
        "Vue pour projection dans la salle",
        "Projector view for the room",
    ),
    "pr.deliberate": ("Délibérer", "Deliberate"),
    "pr.status_line": ("État du point : {status}", "Item: {status}"),
    "pr.live": ("En direct", "Live"),
    "pr.live_hint": (
        "Cette partie se met à jour d'elle-même ; sinon, rechargez la page.",
        "This part updates by itself; otherwise reload the page.",
    ),
    "pr.reload": ("Recharger", "Reload"),
    "pr.question": ("Question à l'étude", "Question before the meeting"),
    "pr.no_motion": (
        "Aucune proposition n'a encore été faite sur ce point.",
        "No motion has been moved on this item yet.",
    ),
    "pr.moved_text": ("Texte proposé", "Text as moved"),
    "pr.current_text": ("Texte tel qu'amendé", "Text as amended"),
    "pr.adopted_text": ("Texte adopté", "Text adopted"),
    "pr.by": ("proposée par {mover}", "moved by {mover}"),
    "pr.seconded_by": ("appuyée par {name}", "seconded by {name}"),
    "pr.pending": (
        "Questions en suspens (la plus récente se règle d'abord)",
        "Questions pending (the most recent is dealt with first)",
    ),
    "pr.would_read": (
        "Si elle est adoptée, la proposition se lira :",
        "If adopted, the motion will read:",
    ),
    "pr.struck": ("retranché", "struck out"),
    "pr.added": ("ajouté", "added"),
    "pr.second": ("J'appuie", "I second"),
    "pr.withdraw": ("Retirer ma proposition", "Withdraw my motion"),
    "pr.lapse": ("Constater l'absence d'appui", "Declare it lapsed (no seconder)"),
    "pr.call": ("Mettre aux voix", "Put to the vote"),
    "pr.call_label": ("Mettre aux voix : {what}", "Put to the vote: {what}"),
    "pr.requested_by_none": ("(personne)", "(nobody)"),
    "pr.debate_closed": (
        "La question préalable est adoptée : les questions en suspens sont mises aux "
        "voix sans autre débat ni amendement, la plus récente d'abord.",
        "The previous question carried: the questions pending are put to the vote "
        "with no further debate or amendment, the most recent first.",
    ),
    "pr.speakers": ("Liste des intervenants", "Speakers' list"),
    "pr.speakers_on": ("Sur : {what}", "On: {what}"),
    "pr.speaking": ("{name} a la parole", "{name} has the floor"),
    "pr.speaking_reply": (
        "{name} a la parole (réplique)",
        "{name} has the floor (reply)",
    ),
    "pr.until_clock": ("jusqu'à {clock}", "until {clock}"),
    "pr.nobody_speaking": ("Personne n'a la parole.", "Nobody has the floor."),
    "pr.waiting": ("En attente, dans l'ordre", "Waiting, in order"),
    "pr.nobody_waiting": (
        "Personne n'attend la parole.",
        "Nobody is waiting to speak.",
    ),
    "pr.spoken": ("Ont parlé", "Have spoken"),
    "pr.reply_tag": ("réplique", "reply"),
    "pr.overran": ("temps dépassé", "ran over time"),
    "pr.ask": ("Demander la parole", "Ask for the floor"),
    "pr.ask_reply": ("Exercer mon droit de réplique", "Use my right of reply"),
    "pr.give": ("Donner la parole à {name}", "Give the floor to {name}"),
    "pr.end_turn": ("Fin de l'intervention", "End of the turn"),
    "pr.no_debate": (
        "Pas de débat en ce moment (proposition non appuyée, de procédure ou vote).",
        "No debate right now (motion not seconded, procedural, or a vote).",
    ),
    "pr.vote": ("Vote", "Vote"),
    "pr.vote_on": ("Vote {method} sur : {what}", "Vote {method} on: {what}"),
    "pr.no_vote": ("Aucun vote en cours.", "No vote in progress."),
    "pr.so_far": (
        "{n} vote(s) exprimé(s) : {f} pour, {a} contre, {ab} abstention(s)",
        "{n} vote(s) cast: {f} for, {a} against, {ab} abstaining",
    ),
    "pr.secret_so_far": (
        "{n} membre(s) ont voté (scrutin secret : les nombres à la clôture)",
        "{n} member(s) have voted (secret ballot: counts when it closes)",
    ),
    "pr.secret_public": (
        "Scrutin secret en cours : les nombres à la clôture.",
        "Secret ballot in progress: the counts when it closes.",
    ),
    "pr.counted": (
        "Consigné : {f} pour, {a} contre, {ab} abstention(s)",
        "Recorded: {f} for, {a} against, {ab} abstaining",
    ),
    "pr.hands_wait": (
        "Vote à main levée : le secrétariat consigne les nombres.",
        "Show of hands: the secretary records the counts.",
    ),
    "pr.record_count": ("Consigner les nombres", "Record the counts"),
    "pr.close": ("Clore le vote", "Close the vote"),
    "pr.you_voted": ("Vous avez voté : {choice}", "You voted: {choice}"),
    "pr.you_voted_secret": (
        "Votre vote secret est enregistré.",
        "Your secret vote is recorded.",
    ),
    "pr.not_present": (
        "Vous n'êtes pas inscrit·e comme présent·e : demandez au secrétariat.",
        "You are not recorded as present: ask the secretary.",
    ),
    "pr.recused": (
        "Vous vous êtes retiré·e de ce point.",
        "You have withdrawn from this item.",
    ),
    "pr.results": ("Résultats des votes", "Results of the votes"),
    "pr.result_line": (
        "{what} : {result} — {f} pour, {a} contre, {ab} abstention(s), {method}",
        "{what}: {result} — {f} for, {a} against, {ab} abstaining, {method}",
    ),
    "pr.casting": (
        " (voix prépondérante de la présidence)",
        " (the chair's casting vote)",
    ),
    "pr.point_pending": (
        "{kind} soulevé par {by} : la présidence tranche avant toute autre chose.",
        "{kind} raised by {by}: the chair rules before anything else.",
    ),
    "pr.negation_on": (
        "Objection : {what} nierait la proposition.",
        "Objection: {what} would negate the motion.",
    ),
    "pr.rule_form": ("Décision de la présidence", "The chair's ruling"),
    "pr.founded_yes": ("Le point est fondé", "The point is well founded"),
    "pr.founded_no": ("Le point n'est pas fondé", "The point is not well founded"),
    "pr.record_ruling": ("Enregistrer la décision", "Record the ruling"),
    "pr.rulings": ("Décisions de la présidence", "Rulings of the chair"),
    "pr.ruling_line": (
        "{kind} de {by} : {verdict}",
        "{kind} by {by}: {verdict}",
    ),
    "pr.reversed": ("renversée en appel", "reversed on appeal"),
    "pr.appeal": ("J'en appelle de la décision", "I appeal the ruling"),
    "pr.record": ("Déroulement", "Record"),
    "pr.record_none": ("Rien encore.", "Nothing yet."),
    "pr.suspended": ("Règles suspendues : {rules}", "Rules suspended: {rules}"),
    # members' forms
    "pr.act": ("Proposer", "Move"),
    "pr.main": ("Proposition principale", "Main motion"),
    "pr.f.main_text": ("Texte de la proposition", "Text of the motion"),
    "pr.do_main": ("Proposer", "Move"),
    "pr.amend": ("Amender", "Amend"),
    "pr.amend_hint": (
        "Un amendement modifie la proposition ; un sous-amendement modifie les mots de "
        "l'amendement en cours. Copiez les mots visés tels qu'ils sont écrits.",
        "An amendment changes the motion; a sub-amendment changes the words of the "
        "amendment pending. Copy the words aimed at as they are written.",
    ),
    "pr.level": ("Ce que vous amendez", "What you amend"),
    "pr.level.amendment": ("La proposition (amendement)", "The motion (amendment)"),
    "pr.level.sub": (
        "L'amendement en cours (sous-amendement)",
        "The amendment pending (sub-amendment)",
    ),
    "pr.op": ("Modification", "Change"),
    "pr.op.replace": ("Remplacer des mots", "Replace words"),
    "pr.op.insert": ("Ajouter des mots", "Add words"),
    "pr.op.delete": ("Retrancher des mots", "Strike out words"),
    "pr.op.full": ("Nouveau texte complet", "A whole new text"),
    "pr.mots_hint": (
        "Pour un ajout : les mots après lesquels ajouter (vide : à la fin).",
        "To add: the words after which to add (empty: at the end).",
    ),
    "pr.preview": ("Aperçu", "Preview"),
    "pr.preview_h": ("Aperçu du texte", "Preview of the text"),
    "pr.do_amend": ("Proposer la modification", "Move the change"),
    "pr.procedural": ("Proposition de procédure", "Procedural motion"),
    "pr.kind.previous_question": (
        "Question préalable (clore le débat, 2/3)",
        "Previous question (close debate, 2/3)",
    ),
    "pr.kind.postpone": ("Reporter le point (dépôt)", "Postpone the item"),
    "pr.kind.refer": ("Renvoyer à un comité", "Refer to a committee"),
    "pr.kind.adjourn": ("Ajourner la séance", "Adjourn the meeting"),
    "pr.kind.reconsider": (
        "Reconsidérer la décision (2/3)",
        "Reconsider the decision (2/3)",
    ),
    "pr.kind.suspend_rule": ("Suspendre une règle (2/3)", "Suspend a rule (2/3)"),
    "pr.until_hint": ("Vide : report indéfini.", "Empty: postponed indefinitely."),
    "pr.do_procedural": ("Proposer cette procédure", "Move this procedural motion"),
    "pr.point_h": ("Point d'ordre ou de privilège", "Point of order or of privilege"),
    "pr.f.point_text": ("Ce que vous soulevez", "What you raise"),
    "pr.negation": (
        "L'amendement en cours nie simplement la proposition",
        "The amendment pending simply negates the motion",
    ),
    "pr.do_point": ("Soulever le point", "Raise the point"),
    "pr.minutes_from_record": (
        "Rédiger le procès-verbal à partir du déroulement",
        "Draft the minutes from the record",
    ),
    "pr.refused_rule": ("Règle : {rule}", "Rule: {rule}"),
    "pr.js.missing": (
        "Ces mots ne figurent pas tels quels dans le texte : copiez-les du texte.",
        "These words are not in the text as written: copy them from the text.",
    ),
    "pr.js.twice": (
        "Ces mots paraissent plusieurs fois : ajoutez un mot voisin.",
        "These words appear more than once: add a word next to them.",
    ),
    # the public register
    "pr.reg.history": ("Comment ce texte a été adopté", "How this text was adopted"),
    "pr.reg.amendment": ("Amendement n° {n}", "Amendment no. {n}"),
    "pr.reg.sub": ("Sous-amendement n° {n}", "Sub-amendment no. {n}"),
    "pr.reg.votes": (
        "{f} pour, {a} contre, {ab} abstention(s)",
        "{f} for, {a} against, {ab} abstaining",
    ),
    "pr.reg.moved_words": ("mots proposés : « {words} »", "words moved: “{words}”"),
    "pr.reg.struck_words": ("retranche des mots", "strikes out words"),
    "pr.reg.as_voted": (
        "tel que sous-amendé : « {words} »",
        "as sub-amended: “{words}”",
    ),
    "pr.reg.after": ("Texte après cet amendement", "Text after this amendment"),
    # projector
    "pr.screen_title": ("Projection", "Projector"),
    "pr.screen_result": ("Résultat", "Result"),
    "pr.screen_next": ("Ensuite", "Next"),
    "pr.time_left": ("Temps restant", "Time left"),
    "pr.screen_nothing": ("En attente d'une proposition.", "Waiting for a motion."),
}
