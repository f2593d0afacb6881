"""``maillage node upgrade``: migrate stored documents forward, resumably.

Each service's database carries its schema version: the migrations applied to
it are recorded in its ``schema_migrations`` collection, one document per
version (a database with none is at version 1, the first release's shapes)::

    {"_id": 2, "service": "boards", "state": "done",
     "description": "decided_by_casting_vote on resolutions and motions ...",
     "steps": {"resolutions": {"after": "res-42", "changed": 40, "done": true},
               "meetings": {...}, "boards": {...}},
     "started_at": datetime, "finished_at": datetime}

A migration (version N-1 -> N) is a list of steps, one per collection, each a
function from a stored document to the fields to ``$set`` (or None when the
document already has the new shape). A step walks its collection in ``_id``
order, a batch at a time; each batch's updates and the step's position
(``after``) commit in ONE transaction, so a crash mid-way resumes after the
last committed batch and never applies a batch twice. A finished version is
never run again, and the step functions only fill what is missing, so running
``upgrade`` again changes nothing. (``_id``s of one collection are of one type
in this project: ``$gt`` compares within a type.)

Services read the previous shapes too (marshmallow ``load_default``, event
upcasters); a migration makes the stored documents say what they mean, so that
queries, indexes, exports and backups see one shape.

    @migration("boards", 2, "decided_by_casting_vote ...")
    def _(step):
        step("resolutions", lambda doc: None if "decided_by_casting_vote" in doc
             else {"decided_by_casting_vote": False})
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from shared.envelope import utcnow
from shared.errors import MaillageError

log = logging.getLogger(__name__)

RECORD = "schema_migrations"
Change = Callable[[dict[str, Any]], dict[str, Any] | None]


class MigrationError(MaillageError):
    code = "migration_error"


@dataclass(frozen=True)
class Step:
    collection: str
    change: Change


@dataclass(frozen=True)
class Migration:
    service: str
    version: int  # the version the database is at once this is applied
    description: str
    steps: tuple[Step, ...]


@dataclass
class Result:
    service: str
    version: int
    state: str
    changed: int = 0
    batches: int = 0


REGISTRY: dict[str, list[Migration]] = {}


def migration(
    service: str, version: int, description: str
) -> Callable[[Callable[[Callable[[str, Change], None]], None]], None]:
    """Register the migration of ``service`` to ``version`` (see the module docstring)."""

    def decorator(build: Callable[[Callable[[str, Change], None]], None]) -> None:
        steps: list[Step] = []
        build(lambda collection, change: steps.append(Step(collection, change)))
        known = REGISTRY.setdefault(service, [])
        if any(m.version == version for m in known) or version < 2:
            raise ValueError(f"migration {service} v{version} declared twice or < 2")
        known.append(Migration(service, version, description, tuple(steps)))
        known.sort(key=lambda m: m.version)

    return decorator


def schema_version(db: Any) -> int:
    """The version a service's database is at: its last migration done, else 1."""
    done = db[RECORD].find_one(
        {"state": "done"}, sort=[("_id", -1)], projection={"_id": 1}
    )
    return 1 if done is None else int(done["_id"])


def upgrade(
    store_uri: str,
    *,
    db_prefix: str = "maillage_",
    batch_size: int = 500,
    registry: Mapping[str, Iterable[Migration]] | None = None,
    after_batch: Callable[[Migration, str, int], None] | None = None,
) -> list[Result]:
    """Apply every registered migration not yet done; return what ran.

    ``after_batch(migration, collection, changed)`` is called after each
    committed batch (tests use it to stop an upgrade mid-way, as a crash would).
    """
    if batch_size < 1:
        raise MigrationError(
            "champ « batch_size » : au moins 1", 'field "batch_size": at least 1'
        )
    client: MongoClient[dict[str, Any]] = MongoClient(store_uri, tz_aware=True)
    results: list[Result] = []
    try:
        for service, migrations in sorted((registry or REGISTRY).items()):
            db = client[f"{db_prefix}{service}"]
            for item in sorted(migrations, key=lambda m: m.version):
                if item.version <= schema_version(db):
                    continue
                results.append(_apply(client, db, item, batch_size, after_batch))
    finally:
        client.close()
    return results


def _apply(
    client: MongoClient[dict[str, Any]],
    db: Any,
    item: Migration,
    batch_size: int,
    after_batch: Callable[[Migration, str, int], None] | None,
) -> Result:
    record = db[RECORD]
    record.update_one(
        {"_id": item.version},
        {
            "$setOnInsert": {
                "service": item.service,
                "description": item.description,
                "state": "running",
                "steps": {},
                "started_at": utcnow(),
            }
        },
        upsert=True,
    )
    result = Result(item.service, item.version, "done")
    done = {
        name
        for name, position in (record.find_one({"_id": item.version}) or {})
        .get("steps", {})
        .items()
        if position.get("done")
    }
    for step in item.steps:
        if step.collection in done:  # finished before an interruption
            continue
        while True:
            changed, more = _batch(client, db, item, step, batch_size)
            result.changed += changed
            result.batches += 1
            if after_batch is not None:
                after_batch(item, step.collection, changed)
            if not more:
                break
    record.update_one(
        {"_id": item.version}, {"$set": {"state": "done", "finished_at": utcnow()}}
    )
    log.info("%s at schema version %d", item.service, item.version)
    return result


def _batch(
    client: MongoClient[dict[str, Any]],
    db: Any,
    item: Migration,
    step: Step,
    batch_size: int,
) -> tuple[int, bool]:
    """One batch of ``step`` and its new position, in one transaction."""
    key = f"steps.{step.collection}"

    def body(session: ClientSession) -> tuple[int, bool]:
        record = db[RECORD].find_one({"_id": item.version}, session=session) or {}
        position = record.get("steps", {}).get(step.collection, {})
        if position.get("done"):
            return 0, False
        query = {"_id": {"$gt": position["after"]}} if "after" in position else {}
        docs = list(
            db[step.collection]
            .find(query, session=session)
            .sort("_id", 1)
            .limit(batch_size)
        )
        changed = 0
        for doc in docs:
            update = step.change(doc)
            if update:
                db[step.collection].update_one(
                    {"_id": doc["_id"]}, {"$set": update}, session=session
                )
                changed += 1
        more = len(docs) == batch_size
        mark: dict[str, Any] = {f"{key}.done": not more}
        if docs:
            mark[f"{key}.after"] = docs[-1]["_id"]
        db[RECORD].update_one(
            {"_id": item.version},
            {"$set": mark, "$inc": {f"{key}.changed": changed}},
            session=session,
        )
        return changed, more

    with client.start_session() as session:
        return session.with_transaction(  # type: ignore[no-any-return]
            body,
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
        )


# --- the registry: one entry per shape change, with the commit that made it ----------


def _missing(name: str, value: Any) -> Change:
    return lambda doc: None if name in doc else {name: value}


@migration(
    "boards",
    2,
    "casting vote (commit 904a9fa): charter.casting_vote 'none', "
    "decided_by_casting_vote false on motions and resolutions stored before it",
)
def _boards_casting_vote(step: Callable[[str, Change], None]) -> None:
    def charter(doc: dict[str, Any]) -> dict[str, Any] | None:
        if not isinstance(doc.get("charter"), dict) or "casting_vote" in doc["charter"]:
            return None
        return {"charter.casting_vote": "none"}

    def motions(doc: dict[str, Any]) -> dict[str, Any] | None:
        stored = doc.get("motions") or []
        if all("decided_by_casting_vote" in m for m in stored):
            return None
        return {
            "motions": [
                {"decided_by_casting_vote": False, **motion} for motion in stored
            ]
        }

    step("boards", charter)
    step("meetings", motions)
    step("resolutions", _missing("decided_by_casting_vote", False))


@migration(
    "participation",
    2,
    "eligible_count (commit fcb19d1): null on processes stored before it "
    "(no turnout is made up for them)",
)
def _participation_eligible_count(step: Callable[[str, Change], None]) -> None:
    step("processes", _missing("eligible_count", None))
