"""Every sentence of the pages, French first then English, by key.

    translate("help.results", "en", n=3)  -> "3 services found"

A missing key shows the key itself (and is logged), so a gap is visible in
review; ``tests/web/test_messages.py`` checks every key the templates use.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.web.catalogue_messages import CATALOGUE_MESSAGES
from gateway.web.directory_messages import DIRECTORY_MESSAGES
from gateway.web.entry_messages import ENTRY_MESSAGES
from gateway.web.federation_messages import FEDERATION_MESSAGES
from gateway.web.help_messages import HELP_MESSAGES
from gateway.web.surveys_messages import SURVEYS_MESSAGES

log = logging.getLogger(__name__)

MESSAGES: dict[str, tuple[str, str]] = {
    # site and navigation
    "site.name": ("Maillage", "Maillage"),
    "site.footer": (
        "Maillage — gouvernance partagée des services sociaux de proximité.",
        "Maillage — shared governance of local social services.",
    ),
    "nav.skip": ("Aller au contenu", "Skip to content"),
    "nav.label": ("Navigation principale", "Main navigation"),
    "nav.home": ("Retour à l'accueil", "Back to the home page"),
    "nav.help": ("Trouver de l'aide", "Find help"),
    "nav.participate": ("Participer", "Take part"),
    "nav.boards": ("Conseils", "Boards"),
    "nav.indicators": ("Indicateurs", "Indicators"),
    "nav.admin": ("Administration", "Administration"),
    "nav.other_lang": ("English", "Français"),
    "nav.pages": ("Pages de résultats", "Result pages"),
    "nav.previous": ("Page précédente", "Previous page"),
    "nav.next": ("Page suivante", "Next page"),
    "nav.page_of": ("Page {n} de {total}", "Page {n} of {total}"),
    "yes": ("Oui", "Yes"),
    "no": ("Non", "No"),
    "form.errors": (
        "Le formulaire contient des erreurs :",
        "The form has errors:",
    ),
    "error.title": (
        "Nous n'avons pas pu afficher cette page",
        "We could not show this page",
    ),
    "error.code": ("Code {code}", "Code {code}"),
    "error.service": (
        "Un service a rencontré une erreur. Réessayez plus tard.",
        "A service met an error. Please try again later.",
    ),
    # home
    "home.title": ("Bienvenue", "Welcome"),
    "home.lead": (
        "Trouvez un service près de chez vous, participez aux décisions de votre MRC "
        "et suivez ce que votre conseil en fait.",
        "Find a service near you, take part in your MRC's decisions and follow what "
        "your board does with them.",
    ),
    "home.help": (
        "Chercher un service par besoin, lieu, langue ou accès.",
        "Search services by need, place, language or access.",
    ),
    "home.participate": (
        "Proposer, appuyer, voter et lire les résultats.",
        "Propose, support, vote and read the results.",
    ),
    "home.boards": (
        "Ordre du jour, registre des résolutions, suivi des décisions.",
        "Agenda, register of resolutions, follow-up of decisions.",
    ),
    "home.indicators": (
        "Les indicateurs de la MRC dans le temps.",
        "The MRC's indicators over time.",
    ),
    # find help
    "help.title": ("Trouver de l'aide", "Find help"),
    "help.form": ("Recherche de services", "Service search"),
    "help.f.search": ("Votre besoin", "Your need"),
    "help.h.search": (
        "Par exemple : dépannage alimentaire, logement, proche aidant.",
        "For example: food bank, housing, caregiver.",
    ),
    "help.f.mrc": ("Code de MRC", "MRC code"),
    "help.h.mrc": (
        "Quatre chiffres, par exemple 2466.",
        "Four digits, for example 2466.",
    ),
    "help.f.municipality": ("Code de municipalité", "Municipality code"),
    "help.h.municipality": (
        "Sept chiffres, par exemple 2466023.",
        "Seven digits, for example 2466023.",
    ),
    "help.f.language": ("Langue de service", "Language of service"),
    "help.f.outreach_mode": ("Services hors les murs", "Outreach"),
    "help.f.no_referral_required": ("Sans référence", "No referral needed"),
    "help.f.open_now": ("Ouvert maintenant", "Open now"),
    "help.f.search_page": ("Page", "Page"),
    "help.f.page": ("Page", "Page"),
    "help.access": ("Accès", "Access"),
    "help.any": ("Peu importe", "Any"),
    "help.submit": ("Chercher", "Search"),
    "help.results": ("{n} service(s) trouvé(s)", "{n} service(s) found"),
    "help.none": (
        "Aucun service ne correspond. Essayez moins de filtres.",
        "No service matches. Try fewer filters.",
    ),
    "help.no_referral": ("Sans référence", "No referral needed"),
    "help.back": ("← Retour à la recherche", "← Back to the search"),
    "help.by": ("Offert par {org}", "Offered by {org}"),
    "help.referral": ("Sans référence", "Without a referral"),
    "help.referral_needed": (
        "Non, une référence est demandée",
        "No, a referral is required",
    ),
    "help.eligibility": ("Admissibilité", "Eligibility"),
    "help.phone": ("Téléphone", "Telephone"),
    "help.waiting": ("Liste d'attente", "Waiting list"),
    "help.hours": ("Heures d'ouverture", "Opening hours"),
    "help.days": ("Jours", "Days"),
    "help.opens": ("Ouverture", "Opens"),
    "help.closes": ("Fermeture", "Closes"),
    "help.no_hours": (
        "Heures non publiées : appelez le service.",
        "Hours not published: call the service.",
    ),
    "help.where": ("Comment s'y rendre", "How to get there"),
    "help.confidential": ("Adresse confidentielle.", "Confidential address."),
    "help.confidential_how": (
        "Pour votre sécurité, l'adresse est donnée par téléphone par l'équipe du service.",
        "For your safety, the team gives the address by telephone.",
    ),
    "help.transport": ("Transport :", "Getting there:"),
    "help.accessibility": ("Accessibilité :", "Accessibility:"),
    "help.no_place": (
        "Service offert sans lieu fixe.",
        "Service offered without a fixed place.",
    ),
    "waiting.open": ("Liste d'attente ouverte", "Waiting list open"),
    "waiting.closed": ("Pas de liste d'attente", "No waiting list"),
    "waiting.unknown": ("Liste d'attente : non précisée", "Waiting list: not stated"),
    "waiting.length": ("{n} personne(s) en attente", "{n} person(s) waiting"),
    "waiting.days": ("attente habituelle : {n} jour(s)", "usual wait: {n} day(s)"),
    "waiting.updated": ("Mis à jour le {on}", "Updated on {on}"),
    "outreach.at_home": ("À domicile", "At home"),
    "outreach.public_spaces": ("Dans les lieux publics", "In public spaces"),
    "outreach.community_organizations": (
        "Dans les organismes communautaires",
        "In community organisations",
    ),
    "lang.fr": ("Français", "French"),
    "lang.en": ("Anglais", "English"),
    "lang.es": ("Espagnol", "Spanish"),
    "lang.ar": ("Arabe", "Arabic"),
    "lang.atj": ("Atikamekw", "Atikamekw"),
    "lang.iu": ("Inuktitut", "Inuktitut"),
    "day.MO": ("lundi", "Monday"),
    "day.TU": ("mardi", "Tuesday"),
    "day.WE": ("mercredi", "Wednesday"),
    "day.TH": ("jeudi", "Thursday"),
    "day.FR": ("vendredi", "Friday"),
    "day.SA": ("samedi", "Saturday"),
    "day.SU": ("dimanche", "Sunday"),
    # take part
    "part.title": ("Participer", "Take part"),
    "part.filter": ("Afficher", "Show"),
    "part.none": ("Aucune démarche ouverte.", "No open process."),
    "part.closes": ("Se termine le {on}", "Closes on {on}"),
    "part.back": ("← Toutes les démarches", "← All processes"),
    "part.back_process": ("Retour à la démarche", "Back to the process"),
    "part.submitted": ("Votre proposition est déposée.", "Your proposal is submitted."),
    "part.supported": ("Votre appui est enregistré.", "Your support is recorded."),
    "part.vote": ("Voter", "Vote"),
    "part.results": ("Voir les résultats", "See the results"),
    "part.figures": ("Participation au vote", "Votes cast"),
    "part.ballots_cast": ("Bulletins déposés", "Ballots cast"),
    "part.turnout": ("Taux de participation", "Turnout"),
    "part.turnout_of": (
        "{p} ({n} bulletin(s) sur {e} personnes admissibles)",
        "{p} ({n} ballot(s) of {e} eligible people)",
    ),
    "part.proposals": ("Propositions ({n})", "Proposals ({n})"),
    "part.no_proposals": ("Aucune proposition pour l'instant.", "No proposal yet."),
    "part.cost": ("{amount} $", "${amount}"),
    "part.supports": ("{n} appui(s)", "{n} support(s)"),
    "part.support": ("Appuyer", "Support"),
    "part.participant": ("Code de participation", "Participation code"),
    "part.h.participant": (
        "Le code reçu à votre inscription à la démarche.",
        "The code you received when you registered for the process.",
    ),
    "part.new": ("Déposer une proposition", "Submit a proposal"),
    "part.f.title": ("Titre", "Title"),
    "part.f.summary": ("Description", "Description"),
    "part.f.cost": ("Coût estimé ($)", "Estimated cost ($)"),
    "part.f.participant": ("Code de participation", "Participation code"),
    "part.f._schema": ("Proposition", "Proposal"),
    "part.h.cost": ("En dollars, sans décimales.", "In dollars, no decimals."),
    "part.submit": ("Déposer", "Submit"),
    "part.on_ballot": ("au bulletin", "on the ballot"),
    "part.vote_until": ("Vote jusqu'au {on}", "Voting until {on}"),
    "part.f.description": ("Description", "Description"),
    "part.f.estimated_cost": ("Coût estimé ($)", "Estimated cost ($)"),
    "phase.none": ("Hors période", "Not in a phase"),
    "phase.deliberation": ("Délibération", "Deliberation"),
    "receipt.recorded": (
        "Votre vote à « {title} » est enregistré.",
        "Your vote in \u201c{title}\u201d is recorded.",
    ),
    "receipt.check": ("Vérification", "Check"),
    "receipt.later": (
        "La liste des reçus comptés sera publiée à la clôture du vote.",
        "The list of counted receipts is published when the vote closes.",
    ),
    "receipt.missing": (
        "Ce reçu n'est pas dans la liste publiée : signalez-le au secrétariat.",
        "This receipt is not in the published list: report it to the secretariat.",
    ),
    "phase.open": ("Ouverte", "Open"),
    "phase.proposals": ("Dépôt des propositions", "Proposals"),
    "phase.support": ("Appuis", "Supports"),
    "phase.voting": ("Vote en cours", "Voting"),
    "phase.closed": ("Terminée", "Closed"),
    "phase.results": ("Résultats publiés", "Results published"),
    "method.approval": ("Vote par approbation", "Approval vote"),
    "method.ranking": ("Vote par classement", "Ranked vote"),
    "method.budget": ("Budget participatif", "Participatory budget"),
    "method.score": ("Vote par notes", "Score vote"),
    "ballot.title": ("Bulletin de vote", "Ballot"),
    "ballot.how.approval": (
        "Cochez chaque option que vous approuvez (autant que vous voulez).",
        "Tick every option you approve of (as many as you like).",
    ),
    "ballot.how.ranking": (
        "Donnez un rang à chaque option que vous voulez classer : 1 pour votre premier choix. "
        "Vous pouvez laisser des options sans rang.",
        "Give a rank to each option you want to rank: 1 for your first choice. "
        "You may leave options unranked.",
    ),
    "ballot.how.budget": (
        "Cochez les projets à financer sans dépasser le budget ; le montant restant s'affiche.",
        "Tick the projects to fund without going over the budget; what remains is shown.",
    ),
    "ballot.how.score": (
        "Donnez une note à chaque option.",
        "Give each option a score.",
    ),
    "ballot.rank_legend": ("Votre classement", "Your ranking"),
    "ballot.option": ("Option", "Option"),
    "ballot.rank": ("Rang", "Rank"),
    "ballot.unranked": ("Sans rang", "Unranked"),
    "ballot.first": ("1er choix", "1st choice"),
    "ballot.nth": ("{n}ᵉ choix", "choice {n}"),
    "ballot.score_legend": ("Notes de 0 à {max}", "Scores from 0 to {max}"),
    "ballot.basket_legend": (
        "Projets (budget : {budget} $)",
        "Projects (budget: ${budget})",
    ),
    "ballot.spent": ("Total choisi :", "Chosen total:"),
    "ballot.remaining": ("Reste à répartir :", "Remaining:"),
    "ballot.recalculate": ("Recalculer le montant restant", "Recalculate what remains"),
    "ballot.approve_legend": ("Options", "Options"),
    "ballot.secret": (
        "Votre vote est secret : le reçu prouve qu'il est compté sans en révéler le contenu.",
        "Your vote is secret: the receipt proves it is counted without revealing it.",
    ),
    "ballot.cast": ("Voter", "Cast my vote"),
    "ballot.empty": ("Choisissez au moins une option.", "Choose at least one option."),
    "rank.range": (
        "Rang hors des choix possibles.",
        "Rank outside the possible choices.",
    ),
    "rank.repeated": (
        "Deux options ont le même rang.",
        "Two options have the same rank.",
    ),
    "rank.gap": (
        "Les rangs doivent se suivre à partir de 1, sans trou.",
        "Ranks must follow from 1 without a gap.",
    ),
    "rank.empty": ("Classez au moins une option.", "Rank at least one option."),
    "score.number": ("Note : nombre entier attendu.", "Score: whole number expected."),
    "budget.over": ("Le budget est dépassé.", "The budget is exceeded."),
    "participant.missing": (
        "Code de participation manquant.",
        "Participation code missing.",
    ),
    "receipt.title": ("Reçu de vote", "Ballot receipt"),
    "receipt.counted": (
        "Compté : ce reçu est dans la liste publiée.",
        "Counted: this receipt is in the published list.",
    ),
    "receipt.number": ("Numéro du reçu", "Receipt number"),
    "receipt.list": ("Reçus comptés ({n})", "Counted receipts ({n})"),
    "receipt.find": (
        "Cherchez votre numéro dans cette liste (Ctrl+F) : il n'est envoyé nulle "
        "part, le nœud ne sait donc pas qui vérifie quel reçu.",
        "Look for your number in this list (Ctrl+F): it is sent nowhere, so the "
        "node does not learn who checks which receipt.",
    ),
    "receipt.when": ("Enregistré le", "Recorded on"),
    "receipt.digest": ("Empreinte", "Fingerprint"),
    "receipt.keep": (
        "Gardez ce numéro : il permet de vérifier que votre vote est compté.",
        "Keep this number: it lets you check that your vote is counted.",
    ),
    "results.title": ("Résultats", "Results"),
    "results.winners": ("Retenu(s) ({n})", "Selected ({n})"),
    "results.rounds": (
        "Dépouillement, tour par tour ({n} tours)",
        "Count, round by round ({n} rounds)",
    ),
    "results.round": ("Tour {n}", "Round {n}"),
    "results.count": ("Voix", "Votes"),
    "results.transfer": ("Transfert", "Transfer"),
    "results.threshold": ("Seuil d'élection : {n}", "Quota: {n}"),
    "results.exhausted": ("Bulletins épuisés : {n}", "Exhausted ballots: {n}"),
    "results.rules": ("Règles du dépouillement", "Counting rules"),
    "results.rules.default": (
        "Règles par défaut de la méthode {method}, sans variante choisie.",
        "The default rules of the {method} method, no variant chosen.",
    ),
    "action.eliminate": ("éliminée", "eliminated"),
    "action.elect": ("élue", "elected"),
    "action.win": ("gagnante", "winner"),
    "action.count": ("décompte", "count"),
    "action.select": ("retenue", "selected"),
    "action.skip": ("écartée (budget)", "skipped (budget)"),
    # boards
    "boards.title": ("Conseils", "Boards"),
    "boards.none": ("Aucun conseil sur ce nœud.", "No board on this node."),
    "boards.sections": ("Sections du conseil", "Board sections"),
    "boards.agenda": ("Ordre du jour", "Agenda"),
    "boards.register": ("Registre des résolutions", "Register of resolutions"),
    "boards.follow_up": ("Suivi des décisions", "Follow-up of decisions"),
    "boards.next": ("Prochaine séance publique", "Next public meeting"),
    "boards.when_where": ("Le {when}, {place}", "On {when}, {place}"),
    "boards.priorities": (
        "Priorités venues des citoyennes et citoyens",
        "Priorities from citizens",
    ),
    "boards.rank": ("rang {n}", "rank {n}"),
    "boards.in_camera": ("Point à huis clos", "In-camera item"),
    "boards.from_citizens": ("Priorité citoyenne", "Citizens' priority"),
    "boards.empty_agenda": (
        "L'ordre du jour n'est pas encore publié.",
        "The agenda is not published yet.",
    ),
    "boards.no_meeting": (
        "Aucune séance publique prévue.",
        "No public meeting scheduled.",
    ),
    "boards.seats": (
        "Composition ({n} sièges, {v} vacant(s))",
        "Composition ({n} seats, {v} vacant)",
    ),
    "boards.constituency": ("Collège", "Constituency"),
    "boards.holder": ("Membre", "Member"),
    "boards.term_end": ("Fin du mandat", "Term ends"),
    "boards.vacant": ("Vacant", "Vacant"),
    "boards.resolution": ("Résolution {number}", "Resolution {number}"),
    "boards.adopted_on": ("Adoptée le {on}", "Adopted on {on}"),
    "boards.votes": (
        "Pour {f}, contre {a}, abstentions {s}",
        "For {f}, against {a}, abstentions {s}",
    ),
    # The register lists adopted resolutions only (a defeated motion makes none),
    # so a tie broken by the chair's casting vote is always said in the adopted form.
    "boards.casting_vote": (
        "Adoptée par la voix prépondérante de la présidence.",
        "Decided by the chair's casting vote.",
    ),
    "boards.moved": (
        "Proposée par {by}, appuyée par {second}.",
        "Moved by {by}, seconded by {second}.",
    ),
    "boards.objections": ("Dissidences ({n})", "Dissents ({n})"),
    "boards.no_resolution": ("Aucune résolution publique.", "No public resolution."),
    "boards.late_count": ("{n} décision(s) en retard.", "{n} decision(s) overdue."),
    "boards.number": ("Numéro", "Number"),
    "boards.decision": ("Décision", "Decision"),
    "boards.responsible": ("Responsable", "Responsible"),
    "boards.status": ("État", "Status"),
    "boards.progress": ("Avancement", "Progress"),
    "boards.due": ("Échéance", "Due"),
    "boards.overdue": ("En retard", "Overdue"),
    "decision.planned": ("Prévue", "Planned"),
    "decision.in_progress": ("En cours", "In progress"),
    "decision.blocked": ("Bloquée", "Blocked"),
    "decision.done": ("Réalisée", "Done"),
    "decision.cancelled": ("Annulée", "Cancelled"),
    # indicators
    "ind.title": ("Indicateurs", "Indicators"),
    "ind.show": ("Afficher", "Show"),
    "ind.list": ("Liste des indicateurs", "List of indicators"),
    "ind.none": ("Aucun indicateur publié.", "No published indicator."),
    "ind.suppressed_note": (
        "« supprimé » (S) : valeur cachée parce que trop peu de personnes sont comptées ; "
        "ce n'est pas un zéro.",
        "\u201csuppressed\u201d (S): value hidden because too few people are counted; "
        "it is not a zero.",
    ),
    "ind.suppressed_title": (
        "Valeur supprimée pour protéger la confidentialité",
        "Value suppressed to protect confidentiality",
    ),
    "ind.caption.line": (
        "Courbe dans le temps ; chaque série a son trait et sa forme de point.",
        "Line over time; each series has its own dash and marker shape.",
    ),
    "ind.caption.bar": (
        "Barres par période ; chaque série a son motif.",
        "Bars by period; each series has its own pattern.",
    ),
    "ind.caption.s": (
        "Les périodes marquées S sont supprimées.",
        "Periods marked S are suppressed.",
    ),
    "ind.table": ("Données du graphique", "Chart data"),
    "ind.period": ("Période", "Period"),
    "ind.f.mrc": ("MRC", "MRC"),
    "ind.f.node": ("MRC de ce nœud", "This node's MRC"),
    "ind.f.town": ("Municipalité", "Municipality"),
    "ind.f.whole_mrc": ("Toute la MRC", "The whole MRC"),
    "ind.all_periods": ("Toutes les périodes", "All periods"),
    "ind.period_shown": ("Période affichée : {period}.", "Period shown: {period}."),
    "ind.period_unknown": (
        "« {period} » n'est pas une période offerte ; choisissez-en une dans la liste.",
        '"{period}" is not an offered period; choose one from the list.',
    ),
    "ind.definition": ("Définition", "Definition"),
    "ind.what": ("Ce qui est mesuré", "What is measured"),
    "ind.numerator": ("Numérateur", "Numerator"),
    "ind.denominator": ("Dénominateur", "Denominator"),
    "ind.factor": ("Facteur", "Factor"),
    "ind.unit": ("Unité", "Unit"),
    # administration
    "admin.title": ("Administration du nœud", "Node administration"),
    "admin.status": ("État des services", "Service status"),
    "admin.service": ("Service", "Service"),
    "admin.state": ("État", "State"),
    "admin.ok": ("en marche", "running"),
    "admin.federation": ("Fédération", "Federation"),
    "admin.unavailable": ("Indisponible ({code}).", "Unavailable ({code})."),
    "admin.links": ("Liens avec les autres nœuds", "Links with other nodes"),
    "admin.no_links": ("Aucun lien.", "No link."),
    "admin.peer": ("Nœud pair", "Peer node"),
    "admin.last_seen": ("Dernier contact", "Last seen"),
    "admin.agreements": ("Ententes de partage", "Sharing agreements"),
    "admin.no_agreements": ("Aucune entente.", "No agreement."),
    "admin.agreement": ("Entente", "Agreement"),
    "admin.events": ("Événements partagés", "Shared events"),
    "admin.aggregates": ("Agrégats seulement", "Aggregates only"),
    "admin.threshold": ("Seuil de suppression", "Suppression threshold"),
    "admin.accounts": ("Comptes et rôles", "Accounts and roles"),
    "admin.accounts_elsewhere": (
        "Les comptes se gèrent par l'API /accounts.",
        "Accounts are managed through the /accounts API.",
    ),
    "admin.account": ("Compte", "Account"),
    "admin.roles": ("Rôle", "Role"),
    "admin.active": ("Actif", "Active"),
    # signing in and out
    "session.title": ("Connexion", "Sign in"),
    "session.sign_in": ("Se connecter", "Sign in"),
    "session.sign_out": ("Se déconnecter", "Sign out"),
    "session.needed": (
        "Connectez-vous pour voir cette page.",
        "Sign in to see this page.",
    ),
    "session.sign_in_to_continue": (
        "Se connecter pour continuer",
        "Sign in to continue",
    ),
    "session.already": (
        "Vous êtes connecté·e ({name}).",
        "You are signed in ({name}).",
    ),
    "session.f.username": ("Nom d'utilisateur", "User name"),
    "session.f.password": ("Mot de passe", "Password"),
    "session.submit": ("Se connecter", "Sign in"),
    "session.required": ("à remplir.", "required."),
    "session.missing": (
        "Entrez votre nom d'utilisateur et votre mot de passe.",
        "Enter your user name and your password.",
    ),
    "session.expired_form": (
        "Le formulaire a expiré : il est rechargé, recommencez.",
        "The form expired: it has been reloaded, please try again.",
    ),
}

# Directory editing, accounts and audit pages: their own block (directory_messages).
MESSAGES.update(DIRECTORY_MESSAGES)
# Value entry, dashboard downloads and the federation pages: their own blocks.
MESSAGES.update(ENTRY_MESSAGES)
MESSAGES.update(FEDERATION_MESSAGES)
MESSAGES.update(SURVEYS_MESSAGES)
# Find help: near me, the map, themes, hours in words.
MESSAGES.update(HELP_MESSAGES)
# The local catalogue's pages (catalogue_messages).
MESSAGES.update(CATALOGUE_MESSAGES)


def translate(key: str, lang: str, **values: Any) -> str:
    pair = MESSAGES.get(key)
    if pair is None:
        log.warning("missing message %s", key)
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**values) if values else text
