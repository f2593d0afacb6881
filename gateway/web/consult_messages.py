"""Sentences of the pages that run a consultation (secretary, moderation,
codes, a proposal's comments), French first then English; merged into
:data:`gateway.web.messages.MESSAGES` when :mod:`gateway.web.consult` is
imported."""

from __future__ import annotations

CONSULT_MESSAGES: dict[str, tuple[str, str]] = {
    "co.manage": ("Gérer les consultations", "Manage consultations"),
    "co.manage_of": ("Consultations de la MRC {mrc}", "Consultations of the MRC {mrc}"),
    "co.none": ("Aucune consultation pour l'instant.", "No consultation yet."),
    "co.new": ("Créer une consultation", "Create a consultation"),
    "co.new_for": ("Nouvelle consultation — MRC {mrc}", "New consultation — MRC {mrc}"),
    "co.created": ("La consultation est créée.", "The consultation is created."),
    "co.open_manage": ("Gérer", "Manage"),
    "co.public_page": ("Page publique", "Public page"),
    "co.f.title": ("Titre", "Title"),
    "co.f.method": ("Méthode de vote", "Voting method"),
    "co.f.seats": ("Nombre de priorités retenues (sièges)", "Priorities kept (seats)"),
    "co.h.seats": (
        "Combien de propositions la méthode retient.",
        "How many proposals the method keeps.",
    ),
    "co.f.budget": ("Budget ($)", "Budget ($)"),
    "co.h.budget": (
        "Pour un budget participatif : le montant à répartir.",
        "For a participatory budget: the amount to share.",
    ),
    "co.f.max_points": ("Points maximum", "Maximum points"),
    "co.h.max_points": (
        "Vote par notes : note maximale par proposition ; vote par points et budget "
        "cumulatif : points au total. Vide : valeur par défaut.",
        "Score vote: highest score per proposal; dot vote and cumulative budget: "
        "points in all. Empty: the default.",
    ),
    "co.f.cumulative": (
        "Budget par points (chaque personne répartit ses points)",
        "Budget by points (each person spreads their points)",
    ),
    "co.f.threshold": (
        "Appuis requis pour aller au bulletin",
        "Supports to reach the ballot",
    ),
    "co.f.eligible_count": ("Personnes admissibles au vote", "People eligible to vote"),
    "co.h.eligible_count": (
        "Sert au taux de participation. Vide : non déclaré.",
        "Used for the turnout. Empty: not declared.",
    ),
    "co.f.eligibility": ("Qui peut participer", "Who may take part"),
    "co.elig.residents": (
        "Les résidentes et résidents (registre ou code)",
        "Residents (registry or code)",
    ),
    "co.elig.representatives": (
        "Des représentantes et représentants désignés",
        "Named representatives",
    ),
    "co.f.representatives": (
        "Représentants : un nom d'utilisateur par ligne",
        "Representatives: one user name per line",
    ),
    "co.f.phases": (
        "Phases et dates (heure du Québec)",
        "Phases and dates (Quebec time)",
    ),
    "co.f.start": ("Début — {phase}", "Start — {phase}"),
    "co.f.end": ("Fin — {phase}", "End — {phase}"),
    "co.f.mrc_code": ("MRC", "MRC"),
    "co.f._schema": ("Consultation", "Consultation"),
    "co.f.phases.proposals": ("Dépôt des propositions", "Proposals"),
    "co.f.phases.deliberation": ("Délibération", "Deliberation"),
    "co.f.phases.voting": ("Vote", "Voting"),
    "co.f.phases.results": ("Résultats", "Results"),
    "co.f.support_threshold": ("Appuis requis", "Supports required"),
    "co.f.csv": ("Registre", "Registry"),
    "co.f.count": ("Nombre de codes", "Number of codes"),
    "co.f.reason": ("Motif public", "Public reason"),
    "co.f.text": ("Commentaire", "Comment"),
    "co.f.parent_id": ("Commentaire", "Comment"),
    "co.f.code": ("Code", "Code"),
    "co.create": ("Créer la consultation", "Create the consultation"),
    "co.m.approval": ("Approbation", "Approval"),
    "co.m.score": ("Notes", "Score"),
    "co.m.dot": ("Points (vote par gommettes)", "Dot vote"),
    "co.m.irv": (
        "Vote préférentiel (une priorité, IRV)",
        "Instant runoff (one priority)",
    ),
    "co.m.stv-scottish": (
        "Vote unique transférable (règles écossaises)",
        "STV (Scottish rules)",
    ),
    "co.m.stv-meek": ("Vote unique transférable (méthode de Meek)", "STV (Meek)"),
    "co.m.stv-wigm": (
        "Vote unique transférable (Gregory pondéré)",
        "STV (weighted inclusive Gregory)",
    ),
    "co.m.schulze": ("Condorcet (Schulze)", "Condorcet (Schulze)"),
    "co.m.pb-greedy": (
        "Budget participatif (par appuis)",
        "Participatory budget (greedy)",
    ),
    "co.m.pb-mes": (
        "Budget participatif (parts égales)",
        "Participatory budget (equal shares)",
    ),
    "co.facts": ("En bref", "At a glance"),
    "co.mrc": ("MRC", "MRC"),
    "co.method": ("Méthode", "Method"),
    "co.phase_now": ("Phase actuelle", "Current phase"),
    "co.participants": ("Personnes ayant voté", "People who voted"),
    "co.dates": ("Du {start} au {end}", "From {start} to {end}"),
    "co.eligible": ("Personnes admissibles", "Eligible people"),
    "co.eligible_save": ("Enregistrer le nombre", "Save the number"),
    "co.eligible_saved": ("Nombre enregistré.", "Number saved."),
    "co.registry": ("Registre des résidents", "Residents' registry"),
    "co.h.registry": (
        "Fichier CSV avec les colonnes person (le nom d'utilisateur ou l'identifiant "
        "du compte) et municipality_code (facultatif). Recharger un fichier corrigé "
        "n'ajoute personne deux fois.",
        "CSV file with the columns person (the account's user name or id) and "
        "municipality_code (optional). Loading a corrected file again adds nobody twice.",
    ),
    "co.f.file": ("Fichier CSV", "CSV file"),
    "co.f.paste": ("Ou collez le contenu du fichier", "Or paste the file's content"),
    "co.load": ("Charger le registre", "Load the registry"),
    "co.report": (
        "{rows} ligne(s) lue(s), {added} personne(s) ajoutée(s).",
        "{rows} row(s) read, {added} person(s) added.",
    ),
    "co.report_refused": ("{n} ligne(s) refusée(s) :", "{n} row(s) refused:"),
    "co.row": ("Ligne", "Row"),
    "co.field": ("Champ", "Field"),
    "co.reason": ("Motif", "Reason"),
    "co.codes": ("Codes à usage unique", "One-time codes"),
    "co.h.codes": (
        "Pour les personnes absentes du registre : chaque code prouve une résidence, "
        "une seule fois. Les codes ne s'affichent qu'une fois : imprimez-les.",
        "For people not on the registry: each code proves one residency, once. "
        "Codes are shown only once: print them.",
    ),
    "co.make_codes": ("Générer et imprimer", "Generate and print"),
    "co.codes_title": (
        "Codes de participation — {title}",
        "Participation codes — {title}",
    ),
    "co.print": ("Imprimer", "Print"),
    "co.print_hint": (
        "Ces codes ne seront plus affichés. Imprimez cette page, puis découpez un "
        "billet par personne.",
        "These codes will not be shown again. Print this page, then cut one slip "
        "per person.",
    ),
    "co.slip": (
        "Consultation « {title} » (MRC {mrc}). Pour participer, connectez-vous, puis "
        "entrez ce code à l'adresse :",
        "Consultation “{title}” (MRC {mrc}). To take part, sign in, then enter this "
        "code at:",
    ),
    "co.slip_code": ("Votre code", "Your code"),
    "co.moderation": ("Modération", "Moderation"),
    "co.hidden_done": ("Masqué. Le motif est public.", "Hidden. The reason is public."),
    "co.hide": ("Masquer", "Hide"),
    "co.hide_what": ("Masquer : {what}", "Hide: {what}"),
    "co.hidden_list": ("Propositions masquées", "Hidden proposals"),
    "co.no_hidden": ("Aucune proposition masquée.", "No hidden proposal."),
    "co.comments_of": ("Commentaires ({n})", "Comments ({n})"),
    "co.close": (
        "Clore le vote et publier les résultats",
        "Close the vote and publish the results",
    ),
    "co.close_h": (
        "Possible une fois la période de vote terminée. Les priorités classées "
        "seront proposées à l'ordre du jour de la prochaine séance du conseil.",
        "Possible once the voting period is over. The ranked priorities will be "
        "proposed for the agenda of the board's next meeting.",
    ),
    "co.close_wait": (
        "Le vote se termine le {on} : la clôture sera possible ensuite.",
        "Voting ends on {on}: closing will be possible then.",
    ),
    "co.closed": ("Vote clos, résultats publiés.", "Vote closed, results published."),
    "co.refused": ("Action refusée :", "Action refused:"),
    "co.published": (
        "Résultats publiés. Les priorités partent vers l'ordre du jour du conseil.",
        "Results published. The priorities go to the board's agenda.",
    ),
    # citizens
    "co.have_code": ("J'ai un code de participation", "I have a participation code"),
    "co.redeem_title": ("Entrer mon code — {title}", "Enter my code — {title}"),
    "co.h.code": (
        "Le code de 10 caractères imprimé sur votre billet (majuscules ou minuscules).",
        "The 10-character code printed on your slip (any case).",
    ),
    "co.redeem": ("Valider mon code", "Validate my code"),
    "co.redeemed": (
        "Code accepté : vous pouvez maintenant proposer, appuyer, commenter et voter.",
        "Code accepted: you can now propose, support, comment and vote.",
    ),
    "co.sign_in_first": (
        "Connectez-vous d'abord : le code est lié à votre compte.",
        "Sign in first: the code is tied to your account.",
    ),
    "co.read_more": ("Lire et commenter", "Read and comment"),
    "co.comments": ("Commentaires", "Comments"),
    "co.no_comments": ("Aucun commentaire pour l'instant.", "No comment yet."),
    "co.comment": ("Commenter", "Comment"),
    "co.reply": ("Répondre", "Reply"),
    "co.reply_to": ("Répondre à ce commentaire", "Reply to this comment"),
    "co.your_reply": ("Votre réponse", "Your reply"),
    "co.send": ("Publier", "Post"),
    "co.commented": ("Votre commentaire est publié.", "Your comment is posted."),
    "co.comment_hidden": (
        "Commentaire masqué par la modération. Motif : {reason}",
        "Comment hidden by moderation. Reason: {reason}",
    ),
    "co.comment_hidden_mine": (
        "Votre commentaire est masqué par la modération. Motif : {reason}. "
        "Vous seul·e en voyez encore le texte :",
        "Your comment is hidden by moderation. Reason: {reason}. Only you still "
        "see its text:",
    ),
    "co.yours": ("vous", "you"),
    "co.at": ("le {on}", "on {on}"),
    "co.mine": ("Votre proposition", "Your proposal"),
    "co.edit": ("Modifier ma proposition", "Edit my proposal"),
    "co.save": ("Enregistrer les changements", "Save the changes"),
    "co.edited": ("Votre proposition est modifiée.", "Your proposal is updated."),
    "co.withdraw": ("Retirer ma proposition", "Withdraw my proposal"),
    "co.withdraw_h": (
        "Elle restera lisible, marquée « retirée », et n'ira pas au bulletin.",
        "It stays readable, marked “withdrawn”, and will not reach the ballot.",
    ),
    "co.withdrawn": (
        "Proposition retirée par son auteur.",
        "Proposal withdrawn by its author.",
    ),
    "co.withdrawn_done": (
        "Votre proposition est retirée.",
        "Your proposal is withdrawn.",
    ),
    "co.hidden_mine": (
        "Votre proposition est masquée par la modération. Motif : {reason}",
        "Your proposal is hidden by moderation. Reason: {reason}",
    ),
    "co.my_hidden": ("Vos propositions masquées", "Your hidden proposals"),
    "co.until_support_end": (
        "Modifiable jusqu'à la fin des appuis, le {on}.",
        "Can be changed until supports end, on {on}.",
    ),
    "co.edited_mark": ("modifiée", "edited"),
    "co.status.withdrawn": ("retirée", "withdrawn"),
}
