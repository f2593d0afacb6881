"""Find help's sentences (near me, the map, themes, hours in words), French
then English, merged into :data:`gateway.web.messages.MESSAGES`."""

from __future__ import annotations

HELP_MESSAGES: dict[str, tuple[str, str]] = {
    "help.near.legend": ("Près de moi", "Near me"),
    "help.f.near": ("Votre municipalité", "Your municipality"),
    "help.h.near": (
        "Tapez le nom de votre ville ou village : les services les plus proches "
        "viennent en premier.",
        "Type the name of your town: the nearest services come first.",
    ),
    "help.f.postal_code": ("Ou votre code postal", "Or your postal code"),
    "help.h.postal_code": (
        "Par exemple J3B 6V4 (les trois premiers caractères suffisent).",
        "For example J3B 6V4 (the first three characters are enough).",
    ),
    "help.no_postal_codes": (
        "La recherche par code postal n'est pas offerte sur ce nœud : un "
        "administrateur doit d'abord charger un fichier de codes postaux "
        "(OFFERINGS_POSTAL_CODES).",
        "Search by postal code is not offered on this node: an administrator "
        "must first load a postal-code file (OFFERINGS_POSTAL_CODES).",
    ),
    "help.locate": ("Utiliser ma position", "Use my position"),
    "help.locating": ("Recherche de votre position…", "Finding your position…"),
    "help.locate_refused": (
        "Votre position n'est pas disponible : tapez plutôt le nom de votre "
        "municipalité.",
        "Your position is not available: type the name of your municipality instead.",
    ),
    "help.near.from": (
        "Du plus proche au plus loin de {place}.",
        "Nearest first, from {place}.",
    ),
    "help.near.position": ("votre position", "your position"),
    "help.near.choose": (
        "Plusieurs municipalités portent ce nom : laquelle ?",
        "Several municipalities have this name: which one?",
    ),
    "help.near.unknown": (
        "« {name} » n'est pas une municipalité du Québec que nous connaissons.",
        "“{name}” is not a Quebec municipality we know.",
    ),
    "help.near.unplaced": (
        "{name} n'est pas situé dans notre répertoire géographique : tapez le "
        "nom d'une ville voisine.",
        "{name} is not placed in our gazetteer: type the name of a neighbouring town.",
    ),
    "help.distance": ("à {km} km", "{km} km away"),
    "help.no_distance": (
        "distance non indiquée (adresse confidentielle ou inconnue)",
        "no distance given (confidential or unknown address)",
    ),
    "help.map": ("Carte des résultats", "Map of the results"),
    "help.map_off": (
        "La carte n'est pas affichée : ce nœud n'a pas de fond de carte "
        "(réglage MAILLAGE_MAP_TILES). La liste ci-dessous donne tous les "
        "résultats.",
        "The map is not shown: this node has no map tiles (setting "
        "MAILLAGE_MAP_TILES). The list below gives every result.",
    ),
    "help.map_hint": (
        "Les lieux confidentiels n'apparaissent jamais sur la carte. La liste "
        "ci-dessous donne les mêmes résultats.",
        "Confidential places never appear on the map. The list below gives the "
        "same results.",
    ),
    "help.themes": ("Parcourir par thème", "Browse by theme"),
    "help.theme": ("Thème : {name}", "Theme: {name}"),
    "help.theme_all": ("Tous les thèmes", "All themes"),
    "help.open_now": ("Ouvert maintenant", "Open now"),
    "help.closed_now": ("Fermé en ce moment", "Closed right now"),
    "help.fees": ("Frais", "Fees"),
    "help.other_lang_text": (
        "Ce texte n'existe qu'en anglais.",
        "This text is only available in French.",
    ),
}
