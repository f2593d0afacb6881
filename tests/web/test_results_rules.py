"""The results page says which counting rules were followed, in both languages."""

from __future__ import annotations

from gateway.web.core import env
from gateway.web.messages import translate
from gateway.web.participation import rules_view


def _section(rules, method: str, lang: str) -> str:
    return env.get_template("results_rules.html").render(
        t=lambda key, **kw: translate(key, lang, **kw),
        rules=rules_view(rules),
        process={"method": method},
    )


def test_the_chosen_rule_variants_are_listed_by_name_with_their_values():
    rules = {"winnerElectionMode": "singleWinnerMajority", "batchElimination": True}
    html = _section(rules, "irv", "fr")
    assert "Règles du dépouillement" in html
    assert html.index("batchElimination") < html.index("winnerElectionMode")
    assert "<dd>true</dd>" in html and "<dd>singleWinnerMajority</dd>" in html
    assert "Counting rules" in _section(rules, "irv", "en")


def test_a_process_without_variants_says_it_followed_the_default_rules():
    assert "Règles par défaut de la méthode pb-mes" in _section(None, "pb-mes", "fr")
    assert "default rules of the pb-mes method" in _section(None, "pb-mes", "en")
