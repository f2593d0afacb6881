"""RCTab contests: every setting of the config is honoured or refused by name.

RCTab (github.com/BrightSpots/rcv) describes a contest in one JSON config:
``outputSettings``, ``cvrFileSources``, ``candidates`` and ``rules``. This
module validates that config as RCTab does (ranges, modes and the settings
each mode allows) *before* reading a ballot, then counts it with RCTab's own
round loop: the order of eliminations (undeclared write-ins, minimum vote
threshold, batch, lowest), its winner rules (threshold, "as many candidates
as seats", the last-two tiebreak of a single-winner count), its fractional
surplus truncated to ``decimalPlacesForVoteArithmetic`` and its seeded
``java.util.Random`` tie-breaks.

What it does not do is refused with a :class:`Refusal` naming the setting and
its value, e.g. ``"rules.winnerElectionMode" = 'multiPassIrv': ...`` or
``"cvrFileSources[0].provider" = 'ess': ...``; an unknown key is refused too,
so no setting is ever silently ignored. Output-only settings (report folder,
per-precinct reports) do not change the count; they are listed in the
result's ``parameters["output_settings_not_produced"]``.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import cvr as cvr_formats
from .cvr import UWI as UWI_MARK
from .model import RankedBallot, RankedProfile, Refusal, Result, Round

UNDECLARED = "Undeclared Write-ins"

_TOP = {"tabulatorVersion", "outputSettings", "cvrFileSources", "candidates", "rules"}
# Settings that only shape RCTab's report files, never the count.
_OUTPUT = {
    "contestName",
    "outputDirectory",
    "contestDate",
    "contestJurisdiction",
    "contestOffice",
    "tabulateByBatch",
    "tabulateByPrecinct",
    "tabulateByStyle",
    "generateCdfJson",
}
_SOURCE = {
    "filePath",
    "contestId",
    "firstVoteColumnIndex",
    "firstVoteRowIndex",
    "idColumnIndex",
    "batchColumnIndex",
    "precinctColumnIndex",
    "overvoteDelimiter",
    "provider",
    "overvoteLabel",
    "skippedRankLabel",
    "undeclaredWriteInLabel",
    "treatBlankAsUndeclaredWriteIn",
}
_CANDIDATE = {"name", "code", "excluded", "aliases"}
_RULES = {
    "tiebreakMode",
    "overvoteRule",
    "winnerElectionMode",
    "randomSeed",
    "numberOfWinners",
    "multiSeatBottomsUpPercentageThreshold",
    "decimalPlacesForVoteArithmetic",
    "minimumVoteThreshold",
    "maxSkippedRanksAllowed",
    "maxRankingsAllowed",
    "nonIntegerWinningThreshold",
    "doesFirstRoundDetermineThreshold",
    "hareQuota",
    "batchElimination",
    "continueUntilTwoCandidatesRemain",
    "stopTabulationEarlyAfterRound",
    "exhaustOnDuplicateCandidate",
    "rulesDescription",
    "treatBlankAsUndeclaredWriteIn",
    "overvoteLabel",
    "undervoteLabel",
    "undeclaredWriteInLabel",
}
_OVERVOTE = {
    "alwaysSkipToNextRank": "skip",
    "exhaustImmediately": "exhaust",
    "exhaustIfMultipleContinuing": "exhaust_if_multiple",
}
_TIEBREAK_DONE = {
    "random",
    "previousRoundCountsThenRandom",
    "useCandidateOrder",
    "usePermutationInConfig",  # RCTab's former name of useCandidateOrder
    "generatePermutation",
}
_TIEBREAK_ASK = {
    "stopCountingAndAsk",
    "previousRoundCountsThenAsk",
    "interactive",
    "previousRoundCountsThenInteractive",
}
_MODES = {
    "singleWinnerMajority",
    "multiWinnerAllowOnlyOneWinnerPerRound",
    "multiWinnerAllowMultipleWinnersPerRound",
    "bottomsUp",
    "bottomsUpUsingPercentageThreshold",
    "multiPassIrv",
}
_NEEDS_SEED = {"random", "previousRoundCountsThenRandom", "generatePermutation"}


def _refuse(setting: str, value: Any, fr: str, en: str, where: str | None = None):
    return Refusal(setting, value, fr, en, where)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _int(
    section: dict[str, Any],
    key: str,
    prefix: str,
    low: int,
    high: int,
    *,
    default: int | None = None,
    words: dict[str, int] | None = None,
) -> int | None:
    """An integer setting in ``[low, high]`` (RCTab stores most as strings)."""
    value = section.get(key)
    if _blank(value):
        return default
    if words and isinstance(value, str) and value.strip() in words:
        return words[value.strip()]
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(str(value).strip())
    except ValueError:
        allowed = " | ".join([*(words or {}), f"{low}..{high}"])
        raise _refuse(
            f"{prefix}{key}",
            value,
            f"entier attendu ({allowed})",
            f"integer expected ({allowed})",
        ) from None
    if not low <= number <= high:
        raise _refuse(
            f"{prefix}{key}",
            value,
            f"hors de l'intervalle {low}..{high}",
            f"outside the range {low}..{high}",
        )
    return number


def _bool(section: dict[str, Any], key: str, prefix: str) -> bool:
    value = section.get(key, False)
    if value in (None, ""):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _refuse(
        f"{prefix}{key}", value, "true ou false attendu", "true or false expected"
    )


def _unknown(section: Any, allowed: set[str], prefix: str, what: str) -> None:
    if not isinstance(section, dict):
        raise _refuse(prefix.rstrip("."), section, "objet attendu", "object expected")
    for key in section:
        if key not in allowed:
            raise _refuse(
                f"{prefix}{key}",
                section[key],
                f"réglage inconnu de {what}, non appliqué : refusé",
                f"unknown {what} setting, not applied: refused",
            )


@dataclass(frozen=True)
class RCTabRules:
    """The validated rules, in the engine's words (see :func:`tabulate`)."""

    seats: int = 1
    mode: str = "singleWinnerMajority"
    tiebreak: str = "useCandidateOrder"
    seed: int | None = None
    overvote: str = "exhaust"
    decimals: int = 4
    minimum: int = 0
    max_skipped: int | None = 1
    max_rankings: int | None = None
    non_integer_threshold: bool = False
    first_round_threshold: bool = False
    hare: bool = False
    batch_elimination: bool = False
    continue_until_two: bool = False
    stop_after: int | None = None
    exhaust_on_duplicate: bool = False
    bottoms_up_percent: Fraction | None = None


@dataclass
class RCTabContest:
    profile: RankedProfile
    rules: RCTabRules
    config: dict[str, Any]
    excluded: frozenset[int] = frozenset()
    write_in: int | None = None
    output_ignored: list[str] = field(default_factory=list)

    # Former attributes, kept for callers of the earlier reader.
    @property
    def irv_rules(self) -> RCTabRules:
        return self.rules

    @property
    def stv_rules(self) -> RCTabRules:
        return self.rules


def validate_rules(
    rules: dict[str, Any], declared: int, seats_override: int | None = None
) -> RCTabRules:
    """Check ``rules`` as RCTab's ContestConfig does; refuse what is not counted."""
    p = "rules."
    _unknown(rules, _RULES, p, "rules")
    for key in ("overvoteLabel", "undervoteLabel", "undeclaredWriteInLabel"):
        if not _blank(rules.get(key)):
            raise _refuse(
                f"{p}{key}",
                rules[key],
                "ce libellé se déclare dans cvrFileSources (format RCTab actuel)",
                "this label belongs in cvrFileSources (current RCTab format)",
            )
    if _bool(rules, "treatBlankAsUndeclaredWriteIn", p):
        raise _refuse(
            f"{p}treatBlankAsUndeclaredWriteIn",
            True,
            "non pris en charge",
            "not supported",
        )
    mode = rules.get("winnerElectionMode", "")
    if mode not in _MODES:
        raise _refuse(
            f"{p}winnerElectionMode",
            mode,
            "mode inconnu (" + " | ".join(sorted(_MODES)) + ")",
            "unknown mode (" + " | ".join(sorted(_MODES)) + ")",
        )
    tiebreak = rules.get("tiebreakMode", "")
    if tiebreak in _TIEBREAK_ASK:
        raise _refuse(
            f"{p}tiebreakMode",
            tiebreak,
            "demande un opérateur pendant le dépouillement : non pris en charge",
            "asks an operator during the count: not supported",
        )
    if tiebreak not in _TIEBREAK_DONE:
        raise _refuse(
            f"{p}tiebreakMode", tiebreak, "mode inconnu", "unknown tiebreak mode"
        )
    overvote = rules.get("overvoteRule", "")
    if overvote not in _OVERVOTE:
        raise _refuse(
            f"{p}overvoteRule",
            overvote,
            "règle inconnue (" + " | ".join(_OVERVOTE) + ")",
            "unknown rule (" + " | ".join(_OVERVOTE) + ")",
        )
    seats = _int(rules, "numberOfWinners", p, 0, max(declared, 0), default=None)
    if seats is None:
        raise _refuse(
            f"{p}numberOfWinners", rules.get("numberOfWinners"), "requis", "required"
        )
    if seats_override is not None:
        if seats_override > declared:
            raise _refuse(
                "--seats",
                seats_override,
                f"plus de sièges que de candidats déclarés ({declared})",
                f"more seats than declared candidates ({declared})",
            )
        seats = seats_override
    decimals = _int(rules, "decimalPlacesForVoteArithmetic", p, 1, 20)
    if decimals is None:
        raise _refuse(
            f"{p}decimalPlacesForVoteArithmetic",
            rules.get("decimalPlacesForVoteArithmetic"),
            "requis (1..20)",
            "required (1..20)",
        )
    minimum = _int(rules, "minimumVoteThreshold", p, 0, 1_000_000, default=0) or 0
    max_skipped = _int(
        rules,
        "maxSkippedRanksAllowed",
        p,
        0,
        1_000_000,
        words={"unlimited": -1},
    )
    if max_skipped is None:
        raise _refuse(
            f"{p}maxSkippedRanksAllowed",
            rules.get("maxSkippedRanksAllowed"),
            "requis (unlimited | 0..1000000)",
            "required (unlimited | 0..1000000)",
        )
    max_rankings = _int(
        rules, "maxRankingsAllowed", p, 1, 1_000_000, words={"max": declared}
    )
    if max_rankings is None:
        raise _refuse(
            f"{p}maxRankingsAllowed",
            rules.get("maxRankingsAllowed"),
            "requis (max | 1..1000000)",
            "required (max | 1..1000000)",
        )
    seed = _int(rules, "randomSeed", p, -140737488355328, 140737488355327)
    if tiebreak in _NEEDS_SEED and seed is None:
        raise _refuse(
            f"{p}randomSeed",
            rules.get("randomSeed"),
            f"requis avec tiebreakMode {tiebreak}",
            f"required with tiebreakMode {tiebreak}",
        )
    stop_after = _int(rules, "stopTabulationEarlyAfterRound", p, 1, 1_000_000)
    percent_raw = rules.get("multiSeatBottomsUpPercentageThreshold")
    percent: Fraction | None = None
    if not _blank(percent_raw):
        try:
            percent = Fraction(str(percent_raw).strip())
        except (ValueError, ZeroDivisionError):
            percent = None
        if percent is None or not 1 <= percent <= 100:
            raise _refuse(
                f"{p}multiSeatBottomsUpPercentageThreshold",
                percent_raw,
                "pourcentage de 1 à 100 attendu",
                "percentage from 1 to 100 expected",
            )
    flags = {
        key: _bool(rules, key, p)
        for key in (
            "nonIntegerWinningThreshold",
            "doesFirstRoundDetermineThreshold",
            "hareQuota",
            "batchElimination",
            "continueUntilTwoCandidatesRemain",
            "exhaustOnDuplicateCandidate",
        )
    }
    _check_mode(mode, seats, flags, percent, p)
    return RCTabRules(
        seats=seats,
        mode=mode,
        tiebreak="useCandidateOrder"
        if tiebreak == "usePermutationInConfig"
        else tiebreak,
        seed=seed,
        overvote=_OVERVOTE[overvote],
        decimals=decimals,
        minimum=minimum,
        max_skipped=None if max_skipped == -1 else max_skipped,
        max_rankings=max_rankings,
        non_integer_threshold=flags["nonIntegerWinningThreshold"],
        first_round_threshold=flags["doesFirstRoundDetermineThreshold"],
        hare=flags["hareQuota"],
        batch_elimination=flags["batchElimination"],
        continue_until_two=flags["continueUntilTwoCandidatesRemain"],
        stop_after=stop_after,
        exhaust_on_duplicate=flags["exhaustOnDuplicateCandidate"],
        bottoms_up_percent=None if percent is None else percent / 100,
    )


def _check_mode(
    mode: str,
    seats: int,
    flags: dict[str, bool],
    percent: Fraction | None,
    p: str,
) -> None:
    """The combinations RCTab's documentation declares valid, and only those."""
    single = mode == "singleWinnerMajority"
    if single and seats != 1:
        raise _refuse(
            f"{p}numberOfWinners",
            seats,
            "singleWinnerMajority exige exactement 1 siège",
            "singleWinnerMajority needs exactly 1 seat",
        )
    if mode == "bottomsUpUsingPercentageThreshold":
        if seats != 0:
            raise _refuse(
                f"{p}numberOfWinners",
                seats,
                "bottomsUpUsingPercentageThreshold exige 0 siège",
                "bottomsUpUsingPercentageThreshold needs 0 seats",
            )
        if percent is None:
            raise _refuse(
                f"{p}multiSeatBottomsUpPercentageThreshold",
                None,
                "requis avec bottomsUpUsingPercentageThreshold",
                "required with bottomsUpUsingPercentageThreshold",
            )
    else:
        if seats == 0:
            raise _refuse(
                f"{p}numberOfWinners",
                0,
                "0 siège n'est valable qu'avec bottomsUpUsingPercentageThreshold",
                "0 seats is valid only with bottomsUpUsingPercentageThreshold",
            )
        if percent is not None:
            raise _refuse(
                f"{p}multiSeatBottomsUpPercentageThreshold",
                str(percent),
                "valable seulement avec bottomsUpUsingPercentageThreshold",
                "valid only with bottomsUpUsingPercentageThreshold",
            )
    if not single and mode != "bottomsUpUsingPercentageThreshold" and seats < 2:
        raise _refuse(
            f"{p}winnerElectionMode",
            mode,
            "ce mode exige au moins 2 sièges",
            "this mode needs at least 2 seats",
        )
    multi_only = ("nonIntegerWinningThreshold", "hareQuota")
    for key in multi_only:
        if flags[key] and mode not in (
            "multiWinnerAllowOnlyOneWinnerPerRound",
            "multiWinnerAllowMultipleWinnersPerRound",
        ):
            raise _refuse(
                f"{p}{key}",
                True,
                "valable seulement pour un scrutin à plusieurs sièges avec transfert",
                "valid only for a multi-seat count with surplus transfers",
            )
    for key in ("batchElimination", "continueUntilTwoCandidatesRemain"):
        # RCTab allows both in multi-pass IRV: each pass is a single-winner count
        if flags[key] and not single and mode != "multiPassIrv":
            raise _refuse(
                f"{p}{key}",
                True,
                "valable seulement pour un scrutin à un siège",
                "valid only for a single-winner count",
            )
    if flags["doesFirstRoundDetermineThreshold"] and not single:
        raise _refuse(
            f"{p}doesFirstRoundDetermineThreshold",
            True,
            "valable seulement pour un scrutin à un siège",
            "valid only for a single-winner count",
        )


# -- reading --------------------------------------------------------------------


def read_rctab(config_path: str | Path, seats: int | None = None) -> RCTabContest:
    """Validate an RCTab config, then read its cast-vote records."""
    config_path = Path(config_path)
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise _refuse(
            "config",
            str(config_path.name),
            f"JSON invalide ligne {exc.lineno} : {exc.msg}",
            f"invalid JSON line {exc.lineno}: {exc.msg}",
        ) from None
    _unknown(config, _TOP, "", "RCTab")
    if _blank(config.get("tabulatorVersion")):
        raise _refuse("tabulatorVersion", None, "requis", "required")
    output = config.get("outputSettings") or {}
    _unknown(output, _OUTPUT, "outputSettings.", "outputSettings")
    ignored = [
        f"outputSettings.{k}"
        for k in (
            "tabulateByBatch",
            "tabulateByPrecinct",
            "tabulateByStyle",
            "generateCdfJson",
        )
        if _bool(output, k, "outputSettings.")
    ]
    candidates = config.get("candidates")
    if not isinstance(candidates, list) or not candidates:
        raise _refuse(
            "candidates",
            candidates,
            "liste non vide attendue",
            "non-empty list expected",
        )
    names: list[str] = []
    alias: dict[str, str] = {}
    excluded_names: set[str] = set()
    for i, cand in enumerate(candidates):
        prefix = f"candidates[{i}]."
        _unknown(cand, _CANDIDATE, prefix, "candidate")
        name = cand.get("name")
        if _blank(name) or not isinstance(name, str):
            raise _refuse(f"{prefix}name", name, "nom requis", "name required")
        name = name.strip()
        if name in names or name == UNDECLARED:
            raise _refuse(
                f"{prefix}name",
                name,
                "nom en double ou réservé",
                "duplicate or reserved name",
            )
        names.append(name)
        if _bool(cand, "excluded", prefix):
            excluded_names.add(name)
        others = list(cand.get("aliases") or [])
        if not _blank(cand.get("code")):
            others.append(cand["code"])
        for a in [name, *others]:
            a = str(a).strip()
            if a in alias and alias[a] != name:
                raise _refuse(
                    f"{prefix}aliases",
                    a,
                    "alias déjà pris par un autre candidat",
                    "alias already used by another candidate",
                )
            alias[a] = name
    declared = len(names)
    rules = validate_rules(config.get("rules") or {}, declared, seats)
    sources = config.get("cvrFileSources")
    if not isinstance(sources, list) or not sources:
        raise _refuse(
            "cvrFileSources",
            sources,
            "au moins un fichier requis",
            "at least one file required",
        )
    index = {n: i for i, n in enumerate(names)}
    write_in: int | None = None
    ballots: dict[RankedBallot, int] = {}
    seen_paths: set[Path] = set()
    for k, source in enumerate(sources):
        prefix = f"cvrFileSources[{k}]."
        _unknown(source, _SOURCE, prefix, "cvrFileSources")
        path = config_path.parent / str(source.get("filePath") or "")
        if _blank(source.get("filePath")):
            raise _refuse(f"{prefix}filePath", None, "requis", "required")
        if path.resolve() in seen_paths:
            raise _refuse(
                f"{prefix}filePath",
                source["filePath"],
                "fichier en double",
                "duplicate file",
            )
        seen_paths.add(path.resolve())
        if not path.exists():
            raise _refuse(
                f"{prefix}filePath",
                source["filePath"],
                "fichier introuvable",
                "file not found",
            )
        provider = str(source.get("provider") or "")
        rows = _read_source(
            provider, path, source, prefix, rules.max_rankings or declared
        )
        label = str(source.get("undeclaredWriteInLabel") or "").strip()
        for where, ranks in rows:
            top = max(ranks) if ranks else 0
            if rules.max_rankings is not None and top > rules.max_rankings:
                raise _refuse(
                    "rules.maxRankingsAllowed",
                    rules.max_rankings,
                    f"le bulletin porte un rang {top}, au-delà du maximum (RCTab refuse le fichier)",
                    f"the ballot has a rank {top}, above the maximum (RCTab refuses the file)",
                    where=f"{path.name} {where}",
                )
            out: list[tuple[int, ...]] = []
            for r in range(1, top + 1):
                marks: list[int] = []
                for raw in ranks.get(r, []):
                    if raw == UWI_MARK or (label and raw == label):
                        if write_in is None:
                            write_in = len(names)
                            names.append(UNDECLARED)
                        marks.append(write_in)
                        continue
                    if raw not in alias:
                        raise _refuse(
                            "candidates",
                            raw,
                            "candidat absent de la configuration (RCTab refuse le fichier)",
                            "candidate not declared in the config (RCTab refuses the file)",
                            where=f"{path.name} {where}",
                        )
                    if index[alias[raw]] in marks:
                        raise _refuse(
                            "candidates",
                            raw,
                            f"candidat marqué deux fois au rang {r}",
                            f"candidate marked twice at rank {r}",
                            where=f"{path.name} {where}",
                        )
                    marks.append(index[alias[raw]])
                out.append(tuple(marks))
            ballot_key: RankedBallot = tuple(out)
            ballots[ballot_key] = ballots.get(ballot_key, 0) + 1
    if not ballots:
        raise _refuse(
            "cvrFileSources",
            len(sources),
            "aucun bulletin lu (RCTab refuse de dépouiller)",
            "no cast vote record read (RCTab refuses to tabulate)",
        )
    title = str(output.get("contestName") or "")
    excluded = frozenset(index[n] for n in excluded_names)
    profile = RankedProfile(names, ballots, rules.seats, title, excluded)
    return RCTabContest(profile, rules, config, excluded, write_in, ignored)


# RCTab's provider labels, and what each reads from its cvrFileSources entry.
_PROVIDERS = ("genericCsv", "cdf", "ess", "dominion", "clearBallot", "hart")
_NEEDS_CONTEST = {"cdf", "dominion", "clearBallot", "hart"}
_SPREADSHEET = {"genericCsv", "ess"}


def _read_source(
    provider: str, path: Path, source: dict[str, Any], prefix: str, max_rankings: int
):
    """Check the entry as RCTab's ContestConfig does, then read its ballots.

    A setting RCTab would refuse for this provider, or accept without applying
    (its CSV reader never reads ``overvoteDelimiter`` or
    ``treatBlankAsUndeclaredWriteIn``), is refused by name.
    """
    kind = "cdf" if provider.lower() == "cdf" else provider
    if kind not in _PROVIDERS:
        raise _refuse(
            f"{prefix}provider",
            provider,
            "fournisseur inconnu (" + " | ".join(_PROVIDERS) + ")",
            "unknown provider (" + " | ".join(_PROVIDERS) + ")",
        )
    if not _blank(source.get("overvoteLabel")):
        raise _refuse(
            f"{prefix}overvoteLabel",
            source["overvoteLabel"],
            "libellé de survote explicite non pris en charge",
            "explicit overvote label not supported",
        )
    for key in ("skippedRankLabel", "overvoteDelimiter"):
        if kind != "ess" and not _blank(source.get(key)):
            raise _refuse(
                f"{prefix}{key}",
                source[key],
                f"non appliqué avec le fournisseur {provider} (ess seulement)",
                f"not applied with provider {provider} (ess only)",
            )
    if _bool(source, "treatBlankAsUndeclaredWriteIn", prefix) and kind != "ess":
        raise _refuse(
            f"{prefix}treatBlankAsUndeclaredWriteIn",
            True,
            f"non appliqué avec le fournisseur {provider} (ess seulement)",
            f"not applied with provider {provider} (ess only)",
        )
    delimiter = str(source.get("overvoteDelimiter") or "")
    if delimiter and (
        "\\" in delimiter or re.fullmatch(r"[a-zA-Z0-9.',\-\"\s]+", delimiter)
    ):
        raise _refuse(
            f"{prefix}overvoteDelimiter",
            delimiter,
            "délimiteur invalide (lettres, chiffres, espaces, . ' , - \" ou \\)",
            "invalid delimiter (letters, digits, spaces, . ' , - \" or \\)",
        )
    contest = str(source.get("contestId") or "").strip()
    if kind in _NEEDS_CONTEST and not contest:
        raise _refuse(
            f"{prefix}contestId",
            source.get("contestId"),
            f"requis avec le fournisseur {provider}",
            f"required with provider {provider}",
        )
    if kind not in _NEEDS_CONTEST and contest:
        raise _refuse(
            f"{prefix}contestId",
            contest,
            f"doit être vide pour {provider}",
            f"must be blank for {provider}",
        )
    for key in ("idColumnIndex", "batchColumnIndex", "precinctColumnIndex"):
        _int(source, key, prefix, 1, 1000)
    if kind not in _SPREADSHEET:
        for key in (
            "firstVoteColumnIndex",
            "firstVoteRowIndex",
            "idColumnIndex",
            "precinctColumnIndex",
        ):
            if not _blank(source.get(key)):
                raise _refuse(
                    f"{prefix}{key}",
                    source[key],
                    f"ne doit pas être défini pour le fournisseur {provider}",
                    f"must not be defined for provider {provider}",
                )
    label = str(source.get("undeclaredWriteInLabel") or "").strip()
    if kind == "genericCsv":
        return _generic_csv(path, source, prefix)
    if kind == "cdf":
        if label:
            raise _refuse(
                f"{prefix}undeclaredWriteInLabel",
                label,
                "non pris en charge avec le fournisseur cdf",
                "not supported with provider cdf",
            )
        suffix = path.suffix.lower()
        if suffix == ".json":
            return _cdf(path, source, prefix)
        if suffix == ".xml":
            return cvr_formats.read_cdf_xml(path, source, prefix)
        raise _refuse(
            f"{prefix}filePath",
            source.get("filePath"),
            "un fichier CDF est en .json ou .xml",
            "a CDF file is .json or .xml",
        )
    if kind == "ess":
        first_col = _int(source, "firstVoteColumnIndex", prefix, 1, 1000)
        first_row = _int(source, "firstVoteRowIndex", prefix, 1, 100_000)
        for key, value in (
            ("firstVoteColumnIndex", first_col),
            ("firstVoteRowIndex", first_row),
        ):
            if value is None:
                raise _refuse(
                    f"{prefix}{key}",
                    source.get(key),
                    "requis pour ess",
                    "required for ess",
                )
        assert first_col is not None and first_row is not None
        return cvr_formats.read_ess(
            path,
            source,
            prefix,
            first_col=first_col,
            first_row=first_row,
            id_col=_int(source, "idColumnIndex", prefix, 1, 1000),
            max_rankings=max_rankings,
        )
    if kind == "dominion":
        return cvr_formats.read_dominion(path, source, prefix)
    if kind == "clearBallot":
        return cvr_formats.read_clear_ballot(
            path, source, prefix, max_rankings=max_rankings
        )
    return cvr_formats.read_hart(path, source, prefix)


def _generic_csv(path: Path, source: dict[str, Any], prefix: str):
    first_col = _int(source, "firstVoteColumnIndex", prefix, 1, 1000, default=None)
    first_row = _int(source, "firstVoteRowIndex", prefix, 1, 100_000, default=None)
    if first_col is None or first_row is None:
        key = "firstVoteColumnIndex" if first_col is None else "firstVoteRowIndex"
        raise _refuse(
            f"{prefix}{key}",
            source.get(key),
            "requis pour genericCsv",
            "required for genericCsv",
        )
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise _refuse(f"{prefix}filePath", path.name, "fichier vide", "empty file")
    columns = [h.strip() for h in rows[0][first_col - 1 :]]
    out = []
    for line, row in enumerate(rows[first_row - 1 :], first_row):
        if not any(cell.strip() for cell in row):
            continue
        ranks: dict[int, list[str]] = defaultdict(list)
        for name, cell in zip(columns, row[first_col - 1 :], strict=False):
            cell = cell.strip()
            if not cell:
                continue
            try:
                rank = int(cell)
            except ValueError:
                rank = 0
            if rank < 1:
                raise _refuse(
                    f"{prefix}filePath",
                    path.name,
                    f"rang invalide « {cell} » dans la colonne « {name} »",
                    f'invalid rank "{cell}" in column "{name}"',
                    where=f"ligne/line {line}",
                )
            ranks[rank].append(name)
        out.append((f"ligne/line {line}", ranks))
    return out


def _cdf(path: Path, source: dict[str, Any], prefix: str):
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise _refuse(
            f"{prefix}filePath",
            path.name,
            f"JSON invalide ligne {exc.lineno} : {exc.msg}",
            f"invalid JSON line {exc.lineno}: {exc.msg}",
        ) from None
    wanted = str(source.get("contestId") or "").strip()
    candidates: dict[str, str] = {}
    contests: list[dict[str, Any]] = []
    for election in data.get("Election", []):
        for c in election.get("Candidate", []):
            candidates[c["@id"]] = c.get("Name", c["@id"])
        contests.extend(election.get("Contest", []))
    chosen = [c for c in contests if wanted and wanted in (c.get("@id"), c.get("Name"))]
    if not chosen:
        if wanted or len(contests) != 1:
            raise _refuse(
                f"{prefix}contestId",
                wanted,
                f"aucun concours de ce nom parmi {len(contests)} dans le fichier",
                f"no such contest among the {len(contests)} in the file",
            )
        chosen = contests
    ids = {c.get("@id") for c in chosen}
    selections: dict[str, str | None] = {}
    for contest in chosen:
        for sel in contest.get("ContestSelection", []):
            cids = sel.get("CandidateIds") or []
            if len(cids) != 1:
                raise _refuse(
                    f"{prefix}filePath",
                    path.name,
                    f"sélection {sel.get('@id')} sans un candidat unique (écriture libre ?)",
                    f"selection {sel.get('@id')} without exactly one candidate (write-in?)",
                )
            selections[sel["@id"]] = candidates.get(cids[0], cids[0])
    out = []
    for n, cvr in enumerate(data.get("CVR", []), 1):
        snaps = cvr.get("CVRSnapshot", [])
        current = cvr.get("CurrentSnapshotId")
        snap = next(
            (s for s in snaps if s.get("@id") == current), snaps[0] if snaps else {}
        )
        where = f"CVR {n} ({cvr.get('BallotPrePrintedId') or snap.get('@id', '')})"
        ranks: dict[int, list[str]] = defaultdict(list)
        found = False
        for contest in snap.get("CVRContest", []):
            if contest.get("ContestId") not in ids:
                continue
            found = True
            for sel in contest.get("CVRContestSelection", []):
                sid = sel.get("ContestSelectionId")
                if sid not in selections:
                    raise _refuse(
                        f"{prefix}filePath",
                        path.name,
                        f"sélection inconnue {sid}",
                        f"unknown selection {sid}",
                        where=where,
                    )
                for position in sel.get("SelectionPosition", []):
                    if position.get("HasIndication", "yes") != "yes":
                        continue
                    ranks[int(position["Rank"])].append(selections[sid])  # type: ignore[arg-type]
        if found:
            out.append((where, ranks))
    return out


# -- java.util.Random, for RCTab's seeded tie-breaks ------------------------------


class JavaRandom:
    """``java.util.Random``: RCTab's random tie-breaks are reproducible from the seed."""

    _MULT = 0x5DEECE66D
    _MASK = (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self.seed = (seed ^ self._MULT) & self._MASK

    def next(self, bits: int) -> int:
        self.seed = (self.seed * self._MULT + 0xB) & self._MASK
        value = self.seed >> (48 - bits)
        if value >= 1 << (bits - 1) and bits == 32:
            value -= 1 << 32
        return value

    def next_double(self) -> float:
        return ((self.next(26) << 27) + self.next(27)) * (1.0 / (1 << 53))

    def next_int(self, bound: int) -> int:
        if bound & (bound - 1) == 0:
            return (bound * self.next(31)) >> 31
        while True:
            bits = self.next(31)
            val = bits % bound
            if bits - val + (bound - 1) < (1 << 31):
                return val


def java_shuffle(items: list[str], rnd: JavaRandom) -> list[str]:
    out = list(items)
    for i in range(len(out), 1, -1):
        j = rnd.next_int(i)
        out[i - 1], out[j] = out[j], out[i - 1]
    return out


# -- counting ---------------------------------------------------------------------

_ACTIVE = None
_REASONS = ("overvotes", "skipped_rankings", "exhausted_choices", "repeated_rankings")


def tabulate(contest: RCTabContest) -> Result:
    """Count ``contest`` with RCTab's round loop (see the module docstring)."""
    if contest.rules.mode == "multiPassIrv":
        return _multi_pass(contest)
    return _Count(contest).run()


def _multi_pass(contest: RCTabContest) -> Result:
    """RCTab's multi-pass IRV: one single-winner count per seat.

    As RCTab's TabulatorSession does, each pass is counted with one seat
    under the same rules, then its winner is excluded from the next passes;
    a pass without exactly one winner stops the count (refused). A random
    draw after the first pass is refused: whether RCTab's generator starts
    again for each pass is not established here.
    """
    rules = contest.rules
    single = replace(rules, seats=1, mode="singleWinnerMajority")
    winners: list[int] = []
    rounds: list[Round] = []
    passes: list[dict[str, Any]] = []
    first: Result | None = None
    for k in range(1, rules.seats + 1):
        one = replace(
            contest,
            rules=single,
            excluded=contest.excluded | frozenset(winners),
        )
        counter = _Count(one)
        result = counter.run()
        if k > 1 and counter.drew:
            raise _refuse(
                "rules.tiebreakMode",
                rules.tiebreak,
                f"tirage au sort à la passe {k} de l'IRV en plusieurs passes : "
                "la suite du générateur de RCTab n'est pas établie",
                f"random draw in pass {k} of multi-pass IRV: RCTab's generator "
                "sequence is not established",
            )
        if len(result.winners) != 1:
            raise _refuse(
                "rules.winnerElectionMode",
                rules.mode,
                f"la passe {k} n'a pas donné exactement un élu (RCTab arrête)",
                f"pass {k} did not give exactly one winner (RCTab stops)",
            )
        first = first or result
        winners.append(counter.names.index(result.winners[0]))
        for rnd in result.rounds:
            rnd.note = f"passe/pass {k}" + (f"; {rnd.note}" if rnd.note else "")
        rounds.extend(result.rounds)
        passes.append(
            {"pass": k, "winner": result.winners[0], "rounds": len(result.rounds)}
        )
    assert first is not None
    names = contest.profile.candidates
    return Result(
        method="rctab",
        winners=[names[c] for c in winners],
        rounds=rounds,
        parameters={
            **first.parameters,
            "winnerElectionMode": rules.mode,
            "seats": rules.seats,
            "passes": passes,
        },
        decimals=None,
    )


_INACTIVE_KEYS = {
    "exhaustedChoices": "exhausted_choices",
    "overvotes": "overvotes",
    "repeatedRankings": "repeated_rankings",
    "skippedRankings": "skipped_rankings",
}


def rctab_summary(contest: RCTabContest) -> dict[str, Any]:
    """The count in the shape of RCTab's ``summary.json``, to compare directly.

    Numbers are decimal strings without trailing zeros (RCTab sometimes keeps
    them, e.g. "2.3330": compare numbers, not strings). What RCTab reports in
    a way this engine does not reproduce is refused by name, e.g.::

        {"config": {"contest": "Mayor", ...}, "jsonFormatVersion": "1",
         "results": [{"round": 1, "tally": {"A": "6"}, "threshold": "14",
                      "tallyResults": [{"eliminated": "B",
                                        "transfers": {"A": "2", "exhausted": "1"}}],
                      "inactiveBallots": {"overvotes": "0", ...}}],
         "summary": {"finalThreshold": "14", "numWinners": 1, ...}}
    """

    def refuse(fr: str, en: str) -> Refusal:
        return _refuse("--format-out", "rctab-summary-json", fr, en)

    if contest.rules.mode == "multiPassIrv":
        raise refuse(
            "RCTab écrit un rapport par passe de l'IRV en plusieurs passes : "
            "non produit",
            "RCTab writes one report per pass of multi-pass IRV: not produced",
        )
    counter = _Count(contest)
    result = counter.run()
    r = contest.rules
    S = counter.S

    if counter.inactive.get("no_rankings"):
        raise refuse(
            "des bulletins sans aucun rang : leur place dans le rapport RCTab "
            "(undervotes) n'est pas reproduite",
            "ballots without any ranking: their place in RCTab's report "
            "(undervotes) is not reproduced",
        )
    labelled = any(
        not _blank(source.get("undeclaredWriteInLabel"))
        for source in contest.config.get("cvrFileSources") or []
    )
    if labelled and contest.write_in is None:
        raise refuse(
            "libellé d'écriture libre déclaré mais jamais lu : la ligne à 0 que "
            "RCTab pourrait afficher n'est pas reproduite",
            "write-in label declared but never read: the zero line RCTab may "
            "show is not reproduced",
        )

    def plain(value: Any) -> str:
        value = Fraction(value)
        scaled = value * 10**r.decimals
        if scaled.denominator != 1:
            raise refuse(
                f"valeur {value} non représentable à {r.decimals} décimales",
                f"value {value} not representable at {r.decimals} decimals",
            )
        text = format(Decimal(int(scaled)).scaleb(-r.decimals).normalize(), "f")
        return "0" if text in ("-0", "0") else text

    names = counter.names
    results = []
    for rnd in result.rounds:
        inactive = {
            key: plain(rnd.inactive.get(ours, 0))
            for key, ours in _INACTIVE_KEYS.items()
        }
        surplus = counter.final_surplus_seen.get(rnd.number, 0)
        if surplus:
            inactive["finalRoundSurplus"] = plain(Fraction(surplus, S))
        results.append(
            {
                "inactiveBallots": inactive,
                "round": rnd.number,
                "tally": {name: plain(v) for name, v in rnd.counts.items()},
                "tallyResults": [
                    {
                        kind: names[c],
                        "transfers": {
                            k: plain(Fraction(v, S)) for k, v in flows.items()
                        },
                    }
                    for kind, c, flows in counter.events.get(rnd.number, [])
                ],
                "threshold": plain(rnd.threshold or 0),
            }
        )
    output = contest.config.get("outputSettings") or {}
    return {
        "config": {
            "contest": str(output.get("contestName") or ""),
            "date": str(output.get("contestDate") or ""),
            "generatedBy": "maillage tally (RCTab summary format)",
            "jurisdiction": str(output.get("contestJurisdiction") or ""),
            "office": str(output.get("contestOffice") or ""),
        },
        "jsonFormatVersion": "1",
        "results": results,
        "summary": {
            "finalThreshold": results[-1]["threshold"] if results else "0",
            "numCandidates": len(counter.order),
            "numWinners": r.seats,
            "totalNumBallots": str(contest.profile.total),
            "undervotes": 0,
        },
    }


class _Count:
    def __init__(self, contest: RCTabContest) -> None:
        self.contest = contest
        self.rules = r = contest.rules
        prof = contest.profile
        self.names = prof.candidates
        self.S = 10**r.decimals
        self.uwi = contest.write_in
        self.order = [c for c in range(len(self.names)) if c not in contest.excluded]
        self.continuing = set(self.order)
        self.elected: list[int] = []
        self.won_in: dict[int, int] = {}
        self.lost_in: dict[int, int] = {}
        self.groups = [(b, n) for b, n in prof.ballots.items() if n]
        self.weight = [self.S] * len(self.groups)
        self.pos = [0] * len(self.groups)
        self.holder: list[int | str] = [-1] * len(self.groups)
        self.tallies = {c: 0 for c in self.order}
        self.inactive = {k: 0 for k in _REASONS}
        self.history: list[dict[int, int]] = []
        self.threshold = 0
        self.residual = 0
        # What each elected or eliminated candidate's ballots moved to, by
        # round, for RCTab's summary ("tallyResults"); amounts in 1/S units.
        self.events: dict[int, list[tuple[str, int, dict[str, int]]]] = {}
        self.final_surplus_total = 0
        self.final_surplus_seen: dict[int, int] = {}
        self.drew = False  # a tie was broken by the seeded generator
        self.number = 0
        self.uses_surplus = r.seats > 1 and r.mode.startswith("multiWinner")
        self.random: JavaRandom | None = None
        self.permutation = [self.names[c] for c in range(len(self.names))]
        if r.tiebreak in _NEEDS_SEED:
            self.random = JavaRandom(int(r.seed or 0))
            if r.tiebreak == "generatePermutation":
                declared = [n for n in self.names if n != UNDECLARED]
                self.permutation = java_shuffle(sorted(declared), self.random)
        if r.continue_until_two and (contest.excluded or self.uwi is not None):
            raise _refuse(
                "rules.continueUntilTwoCandidatesRemain",
                True,
                "non pris en charge avec des candidats exclus ou des écritures libres",
                "not supported with excluded candidates or undeclared write-ins",
            )
        self.num_candidates = len(self.order)

    # -- ballots ----------------------------------------------------------
    def is_continuing(self, c: int) -> bool:
        return c in self.continuing

    def place(self, i: int) -> None:
        """Find the ballot's next continuing choice, as RCTab's round loop does."""
        ballot, count = self.groups[i]
        r = self.rules
        n = len(ballot)
        if self.final_surplus():
            self.holder[i] = "final_surplus"
            self.final_surplus_total += self.weight[i] * count
            return
        if n == 0:
            self.holder[i] = "no_rankings"
            self.inactive.setdefault("no_rankings", 0)
            self.inactive["no_rankings"] += self.weight[i] * count
            return
        pos = self.pos[i]
        last_ranked = self._last_ranked_before(ballot, pos)
        reason: str | None = None
        chosen: int | None = None
        while pos < n:
            rank = ballot[pos]
            if not rank:
                pos += 1
                continue
            number = pos + 1
            if r.max_skipped is not None and number - last_ranked > r.max_skipped + 1:
                reason = "skipped_rankings"
                break
            last_ranked = number
            if r.exhaust_on_duplicate:
                seen = {c for earlier in ballot[:pos] for c in earlier}
                dup = False
                for c in rank:
                    if c in seen:
                        dup = True
                        break
                    seen.add(c)
                if dup:
                    reason = "repeated_rankings"
                    break
            if len(rank) > 1:
                alive = [c for c in rank if self.is_continuing(c)]
                if r.overvote == "exhaust" or (
                    r.overvote == "exhaust_if_multiple" and len(alive) > 1
                ):
                    reason = "overvotes"
                    break
                if r.overvote == "skip":
                    if number == self._max_rank(ballot):
                        reason = "exhausted_choices"
                        break
                    pos += 1
                    continue
            alive = [c for c in rank if self.is_continuing(c)]
            if alive:
                chosen = alive[0]
                break
            if number == self._max_rank(ballot):
                reason = "exhausted_choices"
                break
            pos += 1
        else:
            reason = "exhausted_choices"
        self.pos[i] = pos
        if chosen is not None:
            self.holder[i] = chosen
            self.tallies[chosen] += self.weight[i] * count
        else:
            self.holder[i] = reason or "exhausted_choices"
            self.inactive[self.holder[i]] += self.weight[i] * count  # type: ignore[index]

    @staticmethod
    def _max_rank(ballot: RankedBallot) -> int:
        return max((p + 1 for p, rank in enumerate(ballot) if rank), default=0)

    @staticmethod
    def _last_ranked_before(ballot: RankedBallot, pos: int) -> int:
        for p in range(pos - 1, -1, -1):
            if ballot[p]:
                return p + 1
        return 0

    def final_surplus(self) -> bool:
        return self.uses_surplus and len(self.elected) == self.rules.seats

    def move_from(self, losers: list[int]) -> None:
        flows: dict[int, dict[str, int]] = {c: {} for c in losers}
        for i in range(len(self.groups)):
            source = self.holder[i]
            if isinstance(source, int) and source in flows:
                amount = self.weight[i] * self.groups[i][1]
                self.place(i)
                self._flow(flows[source], i, amount)
        self.events.setdefault(self.number, []).extend(
            ("eliminated", c, flows[c]) for c in losers
        )

    def _flow(self, flows: dict[str, int], i: int, amount: int) -> None:
        if amount:
            dest = self.holder[i]
            key = self.names[dest] if isinstance(dest, int) else "exhausted"
            flows[key] = flows.get(key, 0) + amount

    # -- thresholds and ties ---------------------------------------------
    def compute_threshold(self) -> Any:
        """Threshold in 1/S units (a Fraction only in the percentage mode)."""
        r = self.rules
        S = self.S
        total = sum(self.tallies[c] for c in self.continuing)
        threshold: Any
        if r.mode == "bottomsUpUsingPercentageThreshold":
            threshold = Fraction(total) * (r.bottoms_up_percent or 0)
        else:
            divisor = max(r.seats, 1) if r.hare else r.seats + 1
            unit = 1 if r.non_integer_threshold else S  # smallest step, in S units
            if r.hare:
                steps = -((-total) // (divisor * unit))  # ceiling
                threshold = steps * unit
            else:
                threshold = (total // (divisor * unit)) * unit + unit
        if r.minimum and r.minimum * S > threshold:
            threshold = r.minimum * S
        return threshold

    def tiebreak(self, tied: list[int], winner: bool) -> int:
        mode = self.rules.tiebreak
        ordered = sorted(tied, key=lambda c: self.names[c])
        if mode in ("useCandidateOrder", "generatePermutation"):
            self.drew = self.drew or mode == "generatePermutation"
            perm = self.permutation if winner else list(reversed(self.permutation))
            for name in perm:
                for c in ordered:
                    if self.names[c] == name:
                        return c
        if mode == "previousRoundCountsThenRandom":
            pool = ordered
            compared = False
            for counts in reversed(self.history[:-1]):
                compared = True
                pick = max if winner else min
                best = pick(counts.get(c, 0) for c in pool)
                pool = [c for c in pool if counts.get(c, 0) == best]
                if len(pool) == 1:
                    return pool[0]
            if compared:
                raise _refuse(
                    "rules.tiebreakMode",
                    mode,
                    f"égalité non départagée par les tours précédents au tour {self.number} : "
                    "l'ordre du tirage de RCTab n'est pas reproduit",
                    f"tie not broken by earlier rounds in round {self.number}: RCTab's "
                    "draw order is not reproduced",
                )
            ordered = pool
        assert self.random is not None
        self.drew = True
        return ordered[int(self.random.next_double() * len(ordered))]

    # -- the round loop ----------------------------------------------------
    def keep_going(self) -> bool:
        r = self.rules
        if r.stop_after is not None and self.number >= r.stop_after:
            return False
        if r.continue_until_two:
            return (
                len(self.lost_in) + len(self.elected) + 1 < self.num_candidates
                or self.number in self.lost_in.values()
            )
        if r.mode == "bottomsUpUsingPercentageThreshold":
            return not self.elected
        return len(self.elected) < r.seats or (
            self.uses_surplus and self.number in self.won_in.values()
        )

    def identify_winners(self, live: list[int]) -> list[int]:
        r = self.rules
        t = self.tallies
        if self.uwi is not None and self.uwi in live and t[self.uwi] > 0:
            return []
        if r.mode == "bottomsUpUsingPercentageThreshold":
            if any(t[c] == self.threshold for c in live):
                raise _refuse(
                    "rules.winnerElectionMode",
                    r.mode,
                    "un candidat a exactement le seuil : les versions de RCTab diffèrent",
                    "a candidate holds exactly the threshold: RCTab versions differ",
                )
            return list(live) if all(t[c] >= self.threshold for c in live) else []
        unfilled = r.seats - len(self.elected)
        winners: list[int] = []
        if unfilled > 0:
            if len(live) <= unfilled:
                winners = list(live)
            elif r.first_round_threshold and len(live) - 1 == r.seats:
                top = max(t[c] for c in live)
                winners = [c for c in live if t[c] == top]
            elif r.mode != "bottomsUp":
                winners = [c for c in live if t[c] >= self.threshold and c != self.uwi]
        several = len(winners) > 1 and (
            r.mode == "multiWinnerAllowOnlyOneWinnerPerRound" or r.first_round_threshold
        )
        last_two = (
            r.seats == 1
            and not winners
            and len(live) == 2
            and unfilled == 1
            and all(t[c] >= r.minimum * self.S for c in live)
        )
        if several or last_two:
            pool = winners if several else live
            top = max(t[c] for c in pool)
            tied = [c for c in pool if t[c] == top]
            winners = [self.tiebreak(tied, True) if len(tied) > 1 else tied[0]]
        return winners

    def eliminate(self, live: list[int]) -> list[int]:
        r = self.rules
        t = self.tallies
        if self.uwi is not None and self.uwi in live and t[self.uwi] > 0:
            return [self.uwi]
        if r.minimum:
            below = [c for c in live if t[c] < r.minimum * self.S]
            if below:
                declared = len([c for c in self.order if c != self.uwi])
                if len(below) == declared:
                    raise _refuse(
                        "rules.minimumVoteThreshold",
                        r.minimum,
                        "tous les candidats déclarés sont sous le seuil minimal "
                        "(RCTab arrête le dépouillement)",
                        "every declared candidate is below the minimum vote threshold "
                        "(RCTab stops the count)",
                    )
                return below
        if r.batch_elimination:
            batch = self.batch(live)
            if len(batch) > 1:
                return batch
        low = min(t[c] for c in live)
        tied = [c for c in live if t[c] == low]
        return [self.tiebreak(tied, False) if len(tied) > 1 else tied[0]]

    def batch(self, live: list[int]) -> list[int]:
        t = self.tallies
        levels = sorted({t[c] for c in live})
        running = 0
        seen: list[int] = []
        out: list[int] = []
        previous: list[int] = []
        for level in levels:
            new = list(out)
            if running < level:
                new.extend(c for c in seen if c not in out)
            group = [c for c in live if t[c] == level]
            running += level * len(group)
            seen.extend(group)
            if len(new) > len(out):
                previous, out = out, new
        if (
            self.rules.continue_until_two
            and len(out) + len(self.lost_in) == self.num_candidates - 1
        ):
            out = previous
        return out

    def run(self) -> Result:
        r = self.rules
        names = self.names
        S = self.S
        for i in range(len(self.groups)):
            self.place(i)
        rounds: list[Round] = []
        previous: dict[int, int] = {}
        while self.keep_going():
            self.number += 1
            live = [c for c in self.order if c in self.continuing]
            if self.number == 1 or (r.seats <= 1 and not r.first_round_threshold):
                self.threshold = self.compute_threshold()
            shown = {
                c: self.tallies[c]
                for c in self.order
                if c in self.continuing or c in self.won_in
            }
            self.history.append(dict(shown))
            rnd = Round(
                number=self.number,
                action="count",
                counts={names[c]: Fraction(v, S) for c, v in shown.items()},
                transfers={
                    names[c]: Fraction(v - previous.get(c, 0), S)
                    for c, v in shown.items()
                }
                if previous
                else {},
                exhausted=Fraction(sum(self.inactive.values()), S),
                threshold=Fraction(self.threshold, S),
                inactive={k: Fraction(v, S) for k, v in self.inactive.items()},
                note=f"residual surplus {Fraction(self.residual, S)}"
                if self.uses_surplus
                else "",
            )
            rounds.append(rnd)
            self.final_surplus_seen[self.number] = self.final_surplus_total
            previous = dict(shown)
            winners = self.identify_winners(live)
            if winners:
                winners.sort(key=lambda c: (-self.tallies[c], c))
                rnd.action = "elect"
                rnd.candidates = [names[c] for c in winners]
                for c in winners:
                    self.won_in[c] = self.number
                    self.elected.append(c)
                    if not r.continue_until_two:
                        self.continuing.discard(c)
                if self.uses_surplus:
                    self.transfer_surpluses(winners)
                else:
                    self.events[self.number] = [("elected", c, {}) for c in winners]
                continue
            need = (
                len(self.elected) < r.seats
                or (
                    r.continue_until_two and len(self.lost_in) < self.num_candidates - 2
                )
                or r.mode == "bottomsUpUsingPercentageThreshold"
            )
            if not need:
                continue
            losers = self.eliminate(live)
            rnd.action = "eliminate"
            rnd.candidates = [names[c] for c in losers]
            for c in losers:
                self.lost_in[c] = self.number
                self.continuing.discard(c)
            self.move_from(losers)
            for c in losers:
                self.tallies[c] = 0
        return Result(
            method="rctab",
            winners=[names[c] for c in self.elected],
            rounds=rounds,
            parameters={
                "winnerElectionMode": r.mode,
                "seats": r.seats,
                "threshold": str(Fraction(self.threshold, S)),
                "tiebreakMode": r.tiebreak,
                "overvoteRule": r.overvote,
                "decimals": r.decimals,
                "maxSkippedRanksAllowed": r.max_skipped,
                "maxRankingsAllowed": r.max_rankings,
                "minimumVoteThreshold": r.minimum,
                "batch_elimination": r.batch_elimination,
                "nonIntegerWinningThreshold": r.non_integer_threshold,
                "hareQuota": r.hare,
                "continueUntilTwoCandidatesRemain": r.continue_until_two,
                "stopTabulationEarlyAfterRound": r.stop_after,
                "exhaustOnDuplicateCandidate": r.exhaust_on_duplicate,
                "excluded": sorted(names[c] for c in self.contest.excluded),
                "output_settings_not_produced": self.contest.output_ignored,
            },
            decimals=r.decimals if r.seats != 1 else None,
        )

    def transfer_surpluses(self, winners: list[int]) -> None:
        S = self.S
        for c in winners:
            total = self.tallies[c]
            surplus = total - self.threshold
            fraction = surplus * S // total if surplus > 0 else 0
            moved = 0
            flows: dict[str, int] = {}
            for i in range(len(self.groups)):
                if self.holder[i] != c:
                    continue
                self.weight[i] = self.weight[i] * fraction // S
                amount = self.weight[i] * self.groups[i][1]
                moved += amount
                self.place(i)
                self._flow(flows, i, amount)
            if surplus > 0:
                self.residual += surplus - moved
                if surplus - moved:
                    flows["residual surplus"] = surplus - moved
            self.events.setdefault(self.number, []).append(("elected", c, flows))
            self.tallies[c] = min(total, self.threshold) if surplus > 0 else total
