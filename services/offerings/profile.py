"""The Quebec profile of HSDS 3.0, published as HSDS profiles are published.

Open Referral's profile mechanism (``docs/hsds/profiles.md`` of the
specification, and its example profile repository): a profile is a folder of
JSON Merge Patches (RFC 7386), each named after the HSDS schema file it
changes (``service.json``, ``location.json``… and ``openapi.json`` for the API
description); the profile's schemas are the core files with the patches
merged in. The patches live in ``hsds_profile/profile/`` next to this module;
the core schemas are read from the specification's ``schema`` folder
(``HSDS_SCHEMA_DIR``, by default ``../shared/data/hsds/schema``), never copied.

A node serves them under its profile URL (the API root's ``profile``)::

    GET /hsds/profile                      -> what the profile is, and its files
    GET /hsds/profile/profile/service.json -> the patch
    GET /hsds/profile/schema/service.json  -> core service.json + the patch
    GET /hsds/profile/schema/openapi.json  -> the profile's OpenAPI document

Besides the core object schemas, ``schema/`` holds the three list schemas of
the core's ``compiled`` folder (``service_list.json``…) patched like their
object, so the profile's OpenAPI names local files only.
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from services.offerings.hsds import HSDS_VERSION, PROFILE_URI
from shared.errors import Unavailable

PATCH_DIR = Path(__file__).resolve().parent / "hsds_profile" / "profile"
DEFAULT_SCHEMA_DIR = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "hsds" / "schema"
)
PROFILE_VERSION = "1.0"
# the compiled list schemas of the core, and the object whose patch they take
LISTS = {
    "service_list.json": "service.json",
    "organization_list.json": "organization.json",
    "service_at_location_list.json": "service_at_location.json",
}
_CORE_REF = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: objects merge key by key, ``null`` removes,
    anything else (arrays included) replaces.

    >>> merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": 4}})
    {'a': 1, 'b': {'d': 3, 'e': 4}}
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def schema_dir() -> Path:
    configured = os.environ.get("HSDS_SCHEMA_DIR")
    return Path(configured) if configured else DEFAULT_SCHEMA_DIR


def patches() -> dict[str, Any]:
    """The profile's patches by file name (``{"service.json": {...}, ...}``)."""
    return {
        f.name: json.loads(f.read_text(encoding="utf-8"))
        for f in sorted(PATCH_DIR.glob("*.json"))
    }


@cache
def compiled(core: Path | None = None) -> dict[str, Any]:
    """Every profile schema by file name: the core object schemas and the
    core's compiled list schemas with the profile's patches merged in, and
    ``openapi.json`` whose ``$ref``s name these files (relative URLs, so they
    resolve next to the document wherever it is served)."""
    directory = core or schema_dir()
    if not (directory / "openapi.json").is_file():
        raise Unavailable(
            f"Les schémas HSDS 3.0 sont introuvables dans {directory} : donnez à "
            "HSDS_SCHEMA_DIR le dossier schema/ de la spécification.",
            f"The HSDS 3.0 schemas are not in {directory}: set HSDS_SCHEMA_DIR to "
            "the specification's schema/ folder.",
            details={"setting": "HSDS_SCHEMA_DIR"},
        )
    found = patches()
    out: dict[str, Any] = {}
    for file in sorted(directory.glob("*.json")):
        base = json.loads(file.read_text(encoding="utf-8"))
        out[file.name] = merge_patch(base, found.get(file.name, {}))
    for name, owner in LISTS.items():
        base = json.loads((directory / "compiled" / name).read_text(encoding="utf-8"))
        own = {k: v for k, v in found.get(owner, {}).items() if k == "properties"}
        out[name] = merge_patch(base, own)
    out["openapi.json"] = _local_refs(out["openapi.json"])
    return out


def _local_refs(node: Any) -> Any:
    """The core document's absolute ``$ref``s (raw.githubusercontent…/3.0/
    schema/[compiled/]x.json) as sibling files of the profile's schemas."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_CORE_REF):
            node = {**node, "$ref": ref.rsplit("/", 1)[1]}
        return {k: _local_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_local_refs(v) for v in node]
    return node


def description(profile_url: str) -> dict[str, Any]:
    """What the profile URL answers: the profile, and where its files are.

    {"name": "Quebec profile / profil Québec", "version": "1.0",
     "hsds_version": "3.0", "profile": "https://node/hsds/profile",
     "patches": {"service.json": "https://node/hsds/profile/profile/service.json", …},
     "schemas": {"service.json": "https://node/hsds/profile/schema/service.json", …}}
    """
    base = profile_url.rstrip("/")
    return {
        "name": "Maillage — profil Québec de HSDS / Quebec profile of HSDS",
        "identifier": PROFILE_URI,
        "version": PROFILE_VERSION,
        "hsds_version": HSDS_VERSION,
        "profile": base,
        "description": (
            "Territoire (mrc_code, municipality_code), aucune référence requise, "
            "modes d'intervention hors murs, liste d'attente et capacité, lieux "
            "confidentiels, statut de publication. / Territory (mrc_code, "
            "municipality_code), no referral required, outreach modes, waiting "
            "list and capacity, confidential locations, publication status."
        ),
        "patches": {name: f"{base}/profile/{name}" for name in patches()},
        "schemas": {name: f"{base}/schema/{name}" for name in compiled()},
    }
