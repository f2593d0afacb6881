"""Sentences of the questionnaire and conditions-of-practice pages, French first
then English (merged into :data:`gateway.web.messages.MESSAGES`)."""

from __future__ import annotations

SURVEYS_MESSAGES: dict[str, tuple[str, str]] = {
    "survey.anonymous": (
        "Vos réponses sont anonymes : elles ne sont jamais gardées telles "
        "quelles, seulement ajoutées à des totaux du mois, publiés seulement "
        "quand assez de personnes ont répondu. Vous pouvez sauter une question.",
        "Your answers are anonymous: they are never kept as such, only added to "
        "the month's totals, published only once enough people have answered. "
        "You may skip a question.",
    ),
    "survey.scale": ("1 = {low}, {high_n} = {high}", "1 = {low}, {high_n} = {high}"),
    "survey.skip": ("Je préfère ne pas répondre", "I prefer not to answer"),
    "survey.send": ("Envoyer mes réponses", "Send my answers"),
    "survey.thanks": (
        "Merci, vos réponses sont comptées.",
        "Thank you, your answers are counted.",
    ),
    "survey.next": ("Personne suivante", "Next person"),
    "survey.again": ("Revenir au questionnaire", "Back to the questionnaire"),
    "survey.errors": ("Vérifiez ces réponses :", "Check these answers:"),
    "survey.paper.title": (
        "Saisie d'un questionnaire papier",
        "Entering a paper questionnaire",
    ),
    "survey.paper.intro": (
        "Recopiez un formulaire papier tel que la personne l'a rempli, puis "
        "détruisez-le selon la procédure du service. Rien ne relie la saisie à "
        "vous ni à la personne.",
        "Copy one paper form as the person filled it in, then destroy it as the "
        "service's procedure says. Nothing links the entry to you or the person.",
    ),
    "survey.paper.month": ("Mois où il a été rempli", "Month it was filled in"),
    "survey.paper.send": ("Enregistrer ce formulaire", "Save this form"),
    "survey.paper.done": (
        "Formulaire compté pour {period}. Vous pouvez saisir le suivant.",
        "Form counted for {period}. You may enter the next one.",
    ),
    "practice.title": ("Mes conditions de pratique", "My conditions of practice"),
    "practice.intro": (
        "Une fois par trimestre, dites votre charge de cas, votre temps "
        "administratif et votre accès à la supervision clinique. Le rapport est "
        "anonyme : il est rangé à part de toute trace de votre compte, et seules "
        "des synthèses de plus de {threshold} rapports sortent de cette page ; "
        "personne, ni la gestion ni le conseil, ne voit votre réponse.",
        "Once a quarter, give your caseload, your administrative time and your "
        "access to clinical supervision. The report is anonymous: it is kept "
        "apart from any trace of your account, and only summaries of more than "
        "{threshold} reports leave this page; nobody, neither management nor "
        "the board, sees your answer.",
    ),
    "practice.period": ("Trimestre", "Quarter"),
    "practice.done_for": (
        "Rapport déjà remis pour {period}.",
        "Report already given for {period}.",
    ),
    "practice.caseload": ("Charge de cas (dossiers actifs)", "Caseload (active files)"),
    "practice.admin_share": (
        "Part de votre temps en tâches administratives (%)",
        "Share of your time on administrative tasks (%)",
    ),
    "practice.supervision": (
        "Accès à la supervision clinique",
        "Access to clinical supervision",
    ),
    "practice.supervision.regular": ("Régulière", "Regular"),
    "practice.supervision.occasional": ("Occasionnelle", "Occasional"),
    "practice.supervision.none": ("Aucune", "None"),
    "practice.concerns": (
        "Préoccupations (facultatif ; n'écrivez rien qui vous identifie)",
        "Concerns (optional; write nothing that identifies you)",
    ),
    "practice.send": ("Remettre mon rapport", "Give my report"),
    "practice.sent": (
        "Rapport remis pour {period}. Ce que vous avez répondu n'est plus "
        "lisible par personne, même par vous : seulement dans les synthèses.",
        "Report given for {period}. What you answered can no longer be read by "
        "anyone, even you: only in the summaries.",
    ),
    "practice.errors": ("Vérifiez ces champs :", "Check these fields:"),
    "practice.board.title": (
        "Conditions de pratique et résultats pour les personnes",
        "Conditions of practice and outcomes for people",
    ),
    "practice.board.intro": (
        "Synthèses des rapports anonymes des intervenant·e·s de la MRC, "
        "seulement quand plus de {threshold} ont répondu, à côté des "
        "indicateurs des services.",
        "Summaries of the anonymous reports of the MRC's practitioners, only "
        "when more than {threshold} answered, beside the services' indicators.",
    ),
    "practice.board.too_few": (
        "{period} : trop peu de rapports pour en montrer quoi que ce soit.",
        "{period}: too few reports to show anything.",
    ),
    "practice.board.reports": ("{n} rapports", "{n} reports"),
    "practice.board.measure": ("Mesure", "Measure"),
    "practice.board.median": ("Médiane", "Median"),
    "practice.board.mean": ("Moyenne", "Mean"),
    "practice.board.supervision": (
        "Supervision clinique (% des rapports)",
        "Clinical supervision (% of reports)",
    ),
    "practice.board.concerns": (
        "Préoccupations exprimées (sans auteur, par ordre alphabétique)",
        "Concerns expressed (no author, in alphabetical order)",
    ),
    "practice.board.no_concerns": (
        "Aucune préoccupation écrite.",
        "No concern written.",
    ),
    "practice.board.indicators": ("Indicateurs des services", "Services' indicators"),
    "practice.board.indicator": ("Indicateur", "Indicator"),
    "practice.board.suppressed": ("supprimé", "suppressed"),
    "practice.board.no_data": ("pas de données", "no data"),
}
