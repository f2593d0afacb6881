"""Public reads from the gateway's cache: never staler than the events applied,
never shared across audiences, bypassed (and said so) when the feed is down.

On the real node (real services, broker and store): a second gateway made from
the same settings stands for another gateway process; what it writes reaches the
first one by the domain events or by the gateway-write counters it polls.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from gateway.app import Gateway
from tests.gateway.conftest import create_app, make_config
from tests.gateway.test_service_routes import Board, adopt, token_for

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def feeding(app: Gateway, timeout: float = 10.0) -> Gateway:
    """Once this gateway's event feed is bound (reads bypass the cache before)."""
    deadline = time.monotonic() + timeout
    while (status := app.reads.status()) != "ok":  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    return app


@pytest.fixture(scope="module")
def other(node: tuple[Gateway, str]) -> Iterator[Gateway]:
    """Another gateway process of the same node."""
    app, _ = node
    feeding(app)
    second = feeding(create_app(dict(app.config)))
    yield second
    second.rpc.close()
    second.reads.feed.stop()  # type: ignore[attr-defined]


def staff(app: Gateway) -> dict[str, str]:
    return {"Authorization": "Bearer " + token_for(app, "practitioner")}


def made(resp: Any) -> dict[str, Any]:
    assert resp.status_code in (200, 201), resp.get_json()
    return dict(resp.get_json())


def published_service(app: Gateway, name: str, **location: Any) -> dict[str, Any]:
    http, headers = Client(app), staff(app)
    org = made(
        http.post(
            "/organizations",
            json={"name": f"Org {name}", "description": "Organisme"},
            headers=headers,
        )
    )
    made(http.post(f"/organizations/{org['id']}/publish", headers=headers))
    body: dict[str, Any] = {"organization_id": org["id"], "name": name}
    if location:
        place = made(
            http.post(
                "/locations",
                json={"name": f"Lieu {name}", "organization_id": org["id"], **location},
                headers=headers,
            )
        )
        made(http.post(f"/locations/{place['id']}/publish", headers=headers))
        body["location_ids"] = [place["id"]]
        body["_location"] = place["id"]
    location_id = body.pop("_location", None)
    service = made(http.post("/services", json=body, headers=headers))
    made(http.post(f"/services/{service['id']}/publish", headers=headers))
    return {**service, "location_id": location_id}


def wait_moved(app: Gateway, area: str, before: int, timeout: float = 5.0) -> None:
    """Until this gateway applied something of ``area`` (event or counter)."""
    deadline = time.monotonic() + timeout
    while app.reads._local[area] == before:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, f"no {area} invalidation applied"
        Client(app).get("/health")  # a request polls the counters when due
        time.sleep(0.05)


def hit_again(http: Client, url: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while http.get(url).headers.get("X-Maillage-Cache") != "hit":
        assert time.monotonic() < deadline, f"{url} never cached"
        time.sleep(0.05)


def names(resp: Any) -> list[str]:
    return [s["name"] for s in resp.get_json()["contents"]]


def test_an_anonymous_search_is_served_from_the_cache_until_a_service_is_withdrawn(
    node: tuple[Gateway, str], other: Gateway
) -> None:
    app, _ = node
    http = Client(app)
    word = f"zq{uuid.uuid4().hex[:6]}"
    mine = published_service(app, f"Popote {word}")
    theirs = published_service(app, f"Répit {word}")
    url = f"/services?search={word}"
    first = http.get(url)
    assert sorted(names(first)) == sorted([mine["name"], theirs["name"]])
    hit_again(http, url)  # the publications' events may still be arriving
    again = http.get(url)
    assert again.headers["X-Maillage-Cache"] == "hit"
    assert again.get_data() == first.get_data()
    # withdrawn through this process: the very next read reflects it
    made(
        http.post(
            f"/services/{mine['id']}/withdraw",
            json={"reason": "fermé"},
            headers=staff(app),
        )
    )
    assert names(http.get(url)) == [theirs["name"]]
    # withdrawn through another gateway process: once its event is applied
    hit_again(http, url)  # our own withdraw's event may land after the refill
    before = app.reads._local["offerings"]  # type: ignore[attr-defined]
    made(
        Client(other).post(
            f"/services/{theirs['id']}/withdraw",
            json={"reason": "fermé"},
            headers=staff(other),
        )
    )
    wait_moved(app, "offerings", before)
    assert names(http.get(url)) == []


def test_a_location_made_confidential_elsewhere_leaves_the_anonymous_answer(
    node: tuple[Gateway, str], other: Gateway
) -> None:
    app, _ = node
    http = Client(app)
    service = published_service(
        app, "Hébergement", latitude=46.812345, longitude=-71.2087, mrc_code="2466"
    )
    url = f"/services/{service['id']}"
    assert "46.812345" in http.get(url).get_data(as_text=True)
    hit_again(http, url)
    before = app.reads._local["offerings"]  # type: ignore[attr-defined]
    # no domain event says it: the gateway-write counter does
    made(
        Client(other).patch(
            f"/locations/{service['location_id']}",
            json={"confidential_location": True},
            headers=staff(other),
        )
    )
    wait_moved(app, "offerings", before)
    shown = http.get(url)
    assert shown.status_code == 200
    assert "46.812345" not in shown.get_data(as_text=True)
    assert "Hébergement" in shown.get_data(as_text=True)


def test_a_signed_in_read_never_comes_from_nor_fills_the_anonymous_cache(
    node: tuple[Gateway, str],
) -> None:
    app = feeding(node[0])
    http = Client(app)
    service = published_service(
        app,
        "Refuge",
        latitude=46.765432,
        longitude=-71.2087,
        mrc_code="2466",
        confidential_location=True,
    )
    url = f"/services/{service['id']}"
    inside = http.get(url, headers=staff(app))
    assert "46.765432" in inside.get_data(as_text=True)
    assert "X-Maillage-Cache" not in inside.headers
    public = http.get(url)
    assert public.headers["X-Maillage-Cache"] == "miss"
    assert "46.765432" not in public.get_data(as_text=True)
    inside = http.get(url, headers=staff(app))
    assert "46.765432" in inside.get_data(as_text=True)
    assert "X-Maillage-Cache" not in inside.headers
    # the language is part of the key: another language is another entry
    english = http.get(url, headers={"Accept-Language": "en"})
    assert english.headers["X-Maillage-Cache"] == "miss"


def test_the_register_shows_a_resolution_as_soon_as_it_is_adopted(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    feeding(app)
    board = Board(app, admin)
    http = Client(app)
    url = f"/boards/{board.id}/register"
    assert http.get(url).get_json()["resolutions"] == []
    hit_again(http, url)
    resolution = adopt(board, "budget")
    [entry] = http.get(url).get_json()["resolutions"]
    assert entry["number"] == resolution["number"]


def test_an_unchanged_cached_answer_is_a_304_for_a_client_with_its_etag(
    node: tuple[Gateway, str],
) -> None:
    app = feeding(node[0])
    http = Client(app)
    url = "/services?search=popote"
    tag = http.get(url).headers["ETag"]
    resp = http.get(url, headers={"If-None-Match": tag})
    assert resp.status_code == 304
    assert resp.headers["ETag"] == tag


def test_without_the_event_feed_reads_take_the_rpc_path_and_health_says_so(
    store_uri: str, db_prefix: str
) -> None:
    from tests.gateway.conftest import FakeRpc

    dead = make_config(store_uri, db_prefix, AMQP_URI="amqp://guest:guest@127.0.0.1:1/")
    app = create_app(dead)
    app.rpc = FakeRpc()
    app.rpc.handlers[("offerings", "search")] = lambda *a, **k: {
        "contents": [],
        "total_items": 0,
    }
    http = Client(app)
    for _ in range(3):
        assert http.get("/services?search=popote").status_code == 200
    assert len([c for c in app.rpc.calls if c[1] == "search"]) == 3
    report = http.get("/health").get_json()
    assert report["read_cache"].startswith("bypassed: event feed")
    app.reads.feed.stop()  # type: ignore[attr-defined]
    app.store_client().drop_database(f"{db_prefix}gateway")
