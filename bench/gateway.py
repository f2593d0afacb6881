"""Gateway throughput and latency beside a hello-world WSGI app, same gunicorn.

One run starts a real node slice on 127.0.0.1: the local store (SecantusDB), a
throwaway RabbitMQ vhost, the offerings and participation services (``nameko
run``), the gateway under gunicorn with ``gateway/gunicorn_conf.py`` and, under
the very same settings, :func:`hello_app`. ``wrk`` (Debian package) sends a
bounded number of requests to:

- ``GET /services?search=popote`` (public service search: RPC, store query);
- ``POST /proposals/<id>/supports`` (signed-in citizen: token check, revocation
  list in memory, permission table, rate limit, one group-committed audit entry, RPC,
  one store transaction in participation, outbox event);
- ``GET /`` and ``POST /`` on the hello-world app: the floor gunicorn sets.

Then the same two routes run in this process under cProfile to say where the
time goes (see ``profile`` in each gateway row). Rows:

    {"path": "gateway GET /services?search=…", "requests": 3000, "rps": 410.2,
     "p50_ms": 36.1, "p99_ms": 80.3, "non_2xx": 0, "vs_hello_rps": 0.21, ...}
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from shared.rabbitadmin import BrokerAdmin

ROOT = Path(__file__).resolve().parent.parent
MGMT = os.environ.get("MAILLAGE_TEST_RABBIT_API", "http://127.0.0.1:15672/api")
MGMT_AUTH = ("guest", "guest")
SECRET = "bench-secret-" + "0123456789" * 4
MRC = "2466"
THREADS, CONNECTIONS = 2, 16
READS, WRITES = 800, 800  # gateway requests per wrk run (bounded)
HELLO = 5000
WRITE_POOL = 2000  # (person, proposal) pairs wrk may use: pilot and measured run
PERSONS, PROPOSALS = 60, 40  # 2400 distinct (person, proposal) supports
SERVICES_SEEDED = 120
PROFILED = 200


def hello_app(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """The baseline: what gunicorn costs with no application work at all."""
    if environ["REQUEST_METHOD"] == "POST":
        environ["wsgi.input"].read()
    body = b'{"hello": "world"}'
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


# --- processes ------------------------------------------------------------------


def _free_port() -> int:
    from shared.localstore import free_port

    return free_port()


def _wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def _processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def _vhost() -> Iterator[str]:
    with BrokerAdmin(MGMT).throwaway_vhost("bench") as name:
        yield name


def _service_ref(name: str) -> str:
    from shared.node import service_class_name

    module = f"services.{name}.service"
    return f"{module}:{service_class_name(module)}"


def _gunicorn(app: str, port: int, env: dict[str, str], log: Path) -> list[str]:
    env["MAILLAGE_GATEWAY_BIND"] = f"127.0.0.1:{port}"
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "gateway" / "gunicorn_conf.py"),
        app,
    ]


def _measure(
    base: str, items: list[tuple[str, str, dict[str, str], str]], total: int, tmp: Path
) -> dict[str, Any]:
    """A 2-second pilot sets the time allowed; the measured run is bounded by count."""
    pilot = _wrk(base, items, 10**9, tmp, seconds=2)
    allowed = max(3, int(2.0 * total / max(pilot["rps"], 1.0)) + 2)
    # supports are once per (person, proposal): skip what the pilot may have used
    rest = items[pilot["requests"] + CONNECTIONS :] if len(items) > 1 else items
    return _wrk(base, rest, total, tmp, seconds=allowed)


def _wait_services(base: str, timeout: float = 90) -> None:
    """Until offerings and participation answer RPC (not 503) through the gateway."""
    deadline = time.monotonic() + timeout
    for path in ("/services", "/processes/none/turnout"):
        while requests.get(base + path, timeout=15).status_code == 503:
            if time.monotonic() > deadline:
                raise RuntimeError(f"services did not start ({path})")
            time.sleep(0.5)


# --- wrk --------------------------------------------------------------------------

_LUA = """
local items = %(items)s
local limit = %(limit)d
local nthreads = %(threads)d
local counter = 0
local k = 0
local threads = {}
function setup(thread)
  thread:set("tid", k)
  k = k + 1
  table.insert(threads, thread)
end
local function now_ns()
  local f = io.popen("date +%%s%%N")
  local t = tonumber(f:read("*l"))
  f:close()
  return t
end
function init(args)
  done_here = 0
  next_item = tid
  t_start = 0
  t_end = 0
end
function request()
  if t_start == 0 then t_start = now_ns() end
  local item = items[(next_item %% #items) + 1]
  next_item = next_item + nthreads
  return wrk.format(item[1], item[2], item[3], item[4])
end
function response(status, headers, body)
  done_here = done_here + 1
  if done_here == limit then
    t_end = now_ns()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local first, last = nil, 0
  for _, t in ipairs(threads) do
    local a, b = t:get("t_start"), t:get("t_end")
    if b == 0 then b = nil end
    if first == nil or a < first then first = a end
    if b == nil or last == nil then last = nil elseif b > last then last = b end
  end
  local elapsed_us = summary.duration
  if last ~= nil and first ~= nil then elapsed_us = (last - first) / 1000 end
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, ' ..
    '"p99_us": %%d, "non_2xx": %%d, "socket_errors": %%d}\\n',
    summary.requests, elapsed_us, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string here (ASCII)


def _wrk(
    base: str,
    items: list[tuple[str, str, dict[str, str], str]],
    total: int,
    tmp: Path,
    seconds: int = 120,
) -> dict[str, Any]:
    """``total`` requests (each thread stops at its share) within ``seconds``;
    the rate is measured from the first request to the last answer."""

    def lua_item(method: str, path: str, headers: dict[str, str], body: str) -> str:
        pairs = ",".join(
            f"[{_lua_string(k)}]={_lua_string(v)}" for k, v in headers.items()
        )
        return f"{{{_lua_string(method)},{_lua_string(path)},{{{pairs}}},{_lua_string(body)}}}"

    lua_items = ",".join(lua_item(*item) for item in items)
    script = tmp / f"wrk-{uuid.uuid4().hex[:6]}.lua"
    script.write_text(
        _LUA
        % {
            "items": "{" + lua_items + "}",
            "limit": total // THREADS,
            "threads": THREADS,
        }
    )
    out = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    stats = json.loads(line.removeprefix("WRKJSON "))
    elapsed = stats["duration_us"] / 1e6
    return {
        "requests": stats["requests"],
        "rps": round(stats["requests"] / elapsed, 1),
        "p50_ms": round(stats["p50_us"] / 1000, 2),
        "p90_ms": round(stats["p90_us"] / 1000, 2),
        "p99_ms": round(stats["p99_us"] / 1000, 2),
        "non_2xx": stats["non_2xx"],
        "socket_errors": stats["socket_errors"],
    }


# --- seeding --------------------------------------------------------------------


def _phases() -> dict[str, list[str]]:
    now = datetime.now(UTC)
    edges = [now - timedelta(hours=1)] + [now + timedelta(days=d) for d in (1, 2, 3, 4)]
    names = ["proposals", "deliberation", "voting", "results"]
    return {
        n: [edges[i].isoformat(), edges[i + 1].isoformat()] for i, n in enumerate(names)
    }


def _seed(base: str, tokens: Any, store: Any) -> dict[str, Any]:
    """Published services to search, a process in its proposals phase."""
    admin = store.add_account(
        {
            "username": "bench-admin",
            "role": "node_admin",
            "mrc": MRC,
            "password_hash": "x",
        }
    )
    staff = {"Authorization": "Bearer " + tokens.issue(admin)["token"]}
    s = requests.Session()

    def post(path: str, body: Any = None, headers: dict[str, str] = staff) -> Any:
        resp = s.post(base + path, json=body, headers=headers, timeout=30)
        if resp.status_code >= 300:
            raise RuntimeError(f"seed {path}: {resp.status_code} {resp.text[:300]}")
        return resp.json()

    org = post(
        "/organizations", {"name": "Centre d'action bénévole", "description": "CAB"}
    )
    post(f"/organizations/{org['id']}/publish")
    words = [
        "popote roulante",
        "aide alimentaire",
        "transport accompagnement",
        "répit proches aidants",
        "logement social",
        "halte-garderie",
    ]
    for i in range(SERVICES_SEEDED):
        svc = post(
            "/services",
            {
                "organization_id": org["id"],
                "name": f"{words[i % len(words)].capitalize()} {i}",
                "description": f"Service {i} de {words[(i * 7) % len(words)]}",
                "no_referral_required": i % 2 == 0,
            },
        )
        post(f"/services/{svc['id']}/publish")
    persons = [f"person-{i:03d}" for i in range(PERSONS)]
    process = post(
        "/processes",
        {
            "mrc_code": MRC,
            "title": "Banc d'essai",
            "method": "approval",
            "support_threshold": 1_000_000,
            "phases": _phases(),
        },
    )
    csv = "person,municipality_code\n" + "".join(f"{p},2466023\n" for p in persons)
    post(f"/processes/{process['id']}/registry", {"csv": csv})
    citizen = {p: {"_id": p, "role": "citizen", "mrc": MRC} for p in persons}
    bearer = {
        p: "Bearer " + tokens.issue(a, now=time.time())["token"]
        for p, a in citizen.items()
    }
    proposals = [
        post(
            f"/processes/{process['id']}/proposals",
            {"title": f"Proposition {j}"},
            {"Authorization": bearer[persons[j % PERSONS]]},
        )["id"]
        for j in range(PROPOSALS)
    ]
    # every (person, proposal) pair once, interleaved so concurrent requests
    # rarely touch the same proposal
    pairs = [(p, proposals[j]) for i, p in enumerate(persons) for j in range(PROPOSALS)]
    pairs.sort(key=lambda x: (persons.index(x[0]) + proposals.index(x[1])) % PROPOSALS)
    return {"bearer": bearer, "pairs": pairs, "admin": staff}


# --- profile --------------------------------------------------------------------

_BUCKETS = {
    "rpc round trip (broker + service + store)": ("gateway/rpc.py", "call"),
    "token check (JWT)": ("gateway/auth.py", "read"),
    "revocation check (in-memory list)": ("gateway/cache.py", "is_revoked"),
    "audit entry, waiting for its group commit": ("gateway/audit.py", "commit"),
    "validation (marshmallow)": ("marshmallow/schema.py", "load"),
    "JSON response + ETag": ("gateway/routes/common.py", "cached"),
}


def _profile(
    app: Any, requests_: list[tuple[str, str, dict[str, str]]]
) -> dict[str, Any]:
    from werkzeug.test import Client

    client = Client(app)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for method, path, headers in requests_:
        client.open(path, method=method, headers=headers)
    profiler.disable()
    wall = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    shares: dict[str, float] = {}
    for label, (file_part, func) in _BUCKETS.items():
        cumulative = max(
            (
                value[3]
                for (file, _, name), value in stats.stats.items()  # type: ignore[attr-defined]
                if name == func and file.endswith(file_part)
            ),
            default=0.0,
        )
        shares[label] = round(100 * cumulative / wall, 1)
    shares["everything else (routing, headers, WSGI, metrics)"] = round(
        100 - sum(shares.values()), 1
    )
    started = time.perf_counter()
    for _ in range(100):
        app.rpc.call("offerings", "health")
    trivial = (time.perf_counter() - started) / 100
    return {
        "ms_per_request_in_process": round(1000 * wall / len(requests_), 2),
        # nameko + broker cost of an RPC that does almost nothing (store ping)
        "ms_per_trivial_rpc": round(1000 * trivial, 2),
        "percent": shares,
    }


# --- run --------------------------------------------------------------------------


def run() -> list[dict[str, Any]]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    from gateway.auth import Tokens
    from gateway.store import GatewayStore
    from shared.localstore import LocalStore
    from shared.mongo import make_client

    tmp = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    rows: list[dict[str, Any]] = []
    try:
        with (
            LocalStore(tmp / "store") as store,
            _vhost() as vhost,
            _processes() as procs,
        ):
            prefix = f"bench{uuid.uuid4().hex[:6]}_"
            env = dict(
                os.environ,
                AMQP_URI=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
                MONGODB_URI=store.uri,
                DB_PREFIX=prefix,
                MAILLAGE_SECRET_KEY=SECRET,
                MAILLAGE_MRC_CODE=MRC,
                MAILLAGE_WRITE_BURST="1000000",
                MAILLAGE_WRITE_PER_SECOND="1000000",
                MAILLAGE_GATEWAY_WORKERS="2",
                MAILLAGE_GATEWAY_THREADS="8",
                LOG_LEVEL="WARNING",
            )
            for name in ("offerings", "participation"):
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "nameko",
                            "run",
                            "--config",
                            str(ROOT / "deploy" / "config.yaml"),
                            _service_ref(name),
                        ],
                        env=dict(env, METRICS_PORT=str(_free_port())),
                        cwd=ROOT,
                        stdout=(tmp / f"{name}.log").open("wb"),
                        stderr=subprocess.STDOUT,
                    )
                )
            gw_port, hello_port = _free_port(), _free_port()
            prom = tmp / "prom"
            prom.mkdir()
            for app_ref, port, log in (
                ("gateway.wsgi:app", gw_port, "gateway.log"),
                ("bench.gateway:hello_app", hello_port, "hello.log"),
            ):
                penv = dict(env, PROMETHEUS_MULTIPROC_DIR=str(prom))
                cmd = _gunicorn(app_ref, port, penv, tmp / log)
                procs.append(
                    subprocess.Popen(
                        cmd,
                        env=penv,
                        cwd=ROOT,
                        stdout=(tmp / log).open("wb"),
                        stderr=subprocess.STDOUT,
                    )
                )
            gw, hello = f"http://127.0.0.1:{gw_port}", f"http://127.0.0.1:{hello_port}"
            _wait_http(gw + "/openapi.json")
            _wait_http(hello + "/")
            _wait_services(gw)
            client = make_client(store.uri)
            gstore = GatewayStore(lambda: client, f"{prefix}gateway")
            tokens = Tokens(SECRET)
            seed = _seed(gw, tokens, gstore)
            read_path = "/services?search=popote&per_page=10"
            # warm both apps (connections, pools, imports)
            _wrk(gw, [("GET", read_path, {}, "")], 100, tmp, seconds=2)
            _wrk(hello, [("GET", "/", {}, "")], 500, tmp, seconds=2)
            hello_get = _measure(hello, [("GET", "/", {}, "")], HELLO, tmp)
            gw_get = _measure(gw, [("GET", read_path, {}, "")], READS, tmp)
            hello_post = _measure(
                hello,
                [("POST", "/", {"Content-Type": "application/json"}, "{}")],
                HELLO,
                tmp,
            )
            pairs = seed["pairs"]
            writes = [
                (
                    "POST",
                    f"/proposals/{proposal}/supports",
                    {"Authorization": seed["bearer"][person]},
                    "",
                )
                for person, proposal in pairs[:WRITE_POOL]
            ]
            gw_post = _measure(gw, writes, WRITES, tmp)
            rows = [
                {"path": "hello-world GET / (baseline)", **hello_get},
                {
                    "path": f"gateway GET {read_path}",
                    **gw_get,
                    "vs_hello_rps": round(gw_get["rps"] / hello_get["rps"], 3),
                },
                {"path": "hello-world POST / (baseline)", **hello_post},
                {
                    "path": "gateway POST /proposals/<id>/supports",
                    **gw_post,
                    "vs_hello_rps": round(gw_post["rps"] / hello_post["rps"], 3),
                },
            ]
            # where the time goes: the same routes in this process, profiled
            from gateway.app import create_app

            os.environ.update(
                {
                    k: env[k]
                    for k in ("MAILLAGE_WRITE_BURST", "MAILLAGE_WRITE_PER_SECOND")
                }
            )
            app = create_app(
                {
                    "AMQP_URI": env["AMQP_URI"],
                    "MONGODB_URI": store.uri,
                    "DB_PREFIX": prefix,
                    "SECRET_KEY": SECRET,
                    "NODE_ID": "bench",
                    "RPC_TIMEOUT": 10,
                    "MRC_CODE": MRC,
                }
            )
            rows[1]["profile"] = _profile(app, [("GET", read_path, {})] * PROFILED)
            extra = pairs[WRITE_POOL : WRITE_POOL + PROFILED]
            rows[3]["profile"] = _profile(
                app,
                [
                    (
                        "POST",
                        f"/proposals/{pr}/supports",
                        {"Authorization": seed["bearer"][pe]},
                    )
                    for pe, pr in extra
                ],
            )
            app.rpc.close()
            client.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows
