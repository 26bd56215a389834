"""Schemathesis against the served OpenAPI document: no 500, and every answer as the document says.

The app is served in-process (ASGI, no network) on a fresh database holding a small demo municipality,
so path ids often name real referrals and suppliers. Every operation of the served document is driven
(new endpoints are covered without touching this file; only HTML pages are left out). On SQLite:
schemathesis' phases with an admin token (the document's examples; its coverage cases: boundaries,
missing, wrong-typed and duplicate parameters, wrong methods; random cases), and a few random cases
with a reporter token and without a token. On PostgreSQL, a smaller run: every phase for the reads
(their query values reach SQL), a few random cases for the writes.

The checks: no server error, the status code and content type are declared for the operation, the body
fits the declared schema, schema-violating input is rejected and schema-valid input refused only by a
documented business rule, 405 answers name the allowed methods, and authentication is enforced (also
by schemathesis' own probes without and with a wrong token). The run is deterministic (Hypothesis
derandomized, no example database) and bounded by a fixed number of random examples per operation.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import schemathesis
from hypothesis import strategies as st
from pydantic import SecretStr
from schemathesis.checks import negative_data_rejection
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi

from api.app import create_app
from api.demo import load_demo
from api.settings import Settings
from projections.runner import wait_for_position
from tests.storage import database_url

MAX_EXAMPLES = 12
"""Random cases per operation and token, beyond the document's examples and coverage cases."""

SLICE_EXAMPLES = 3
"""Random cases per operation for the reporter and the anonymous runs."""

# The app's own threads (the projection runner, psycopg's pool) use ``random`` while Hypothesis draws a
# case; Hypothesis takes that for a strategy using it.
pytestmark = pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")


class Serving:
    """The ASGI app the schemas are bound to: it hands every request (and the lifespan) to the app of the
    current storage, which the ``served`` fixture sets. The document is the same for every storage."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.app is not None, "the served fixture sets the app before any request"
        await self.app(scope, receive, send)


SERVING = Serving()


@dataclass
class Served:
    """The app on a seeded database, its tokens, and the ids of what the demo wrote."""

    app: Any
    tokens: dict[str, str]
    ids: dict[str, list[str]] = field(default_factory=dict)
    operations: set[str] = field(default_factory=set)
    calls: Counter[str] = field(default_factory=Counter)


def _seed(app: Any) -> dict[str, list[str]]:
    """A small demo municipality (a few suppliers, a few weeks of referrals in every state)."""
    ledger = app.state.ledger
    load_demo(ledger, today=ledger.today(), weeks=6, suppliers=5, per_week=4, seed=461)
    reports = app.state.reports
    assert wait_for_position(reports.position, ledger.last_position(), timeout=30)
    page = reports.referrals({}, 1, 500)
    referrals = [item["id"] for item in page["items"]]
    suppliers = sorted({item["supplier_id"] for item in page["items"] if item["supplier_id"]})
    return {"referral_id": referrals, "supplier_id": suppliers}


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    with database_url(request.param, tmp) as url:
        # A short wait for ``min_position``: generated positions are mostly far beyond the last event.
        # A signing key, so that the receipts are served on PostgreSQL too (else 503 signing-key-missing).
        settings = Settings(database_url=url, min_position_wait=0.05, signing_key=SIGNING_KEY)
        app = SERVING.app = create_app(settings)
        try:
            # Schemathesis' ASGI client runs the app's lifespan (storage, projections) from its first
            # request on; it is shut down below, before the database goes away.
            with asgi.get_client(SERVING) as client:
                document = client.get("/openapi.json").json()
            assert document == DOCUMENT, "the document tested is the one the app serves"
            tokens = {
                role: app.state.tokens.create(role=role, municipality="*", name=f"st-{role}").secret
                for role in ("admin", "reporter")
            }
            ids = _seed(app)
            KNOWN_IDS.update(ids)
            yield Served(app=app, tokens=tokens, ids=ids)
        finally:
            asgi.shutdown_lifespans()
            SERVING.app = None
            KNOWN_IDS.clear()


SIGNING_KEY = SecretStr(base64.b64encode(bytes(range(32))).decode())
KNOWN_IDS: dict[str, list[str]] = {}
"""Ids the demo wrote, by path parameter name; filled by the ``served`` fixture before any case is drawn."""


def _is_uuid(value: Any) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """A generated (valid) id in a path is often swapped for one the demo wrote, so that commands and
    reads reach real aggregates; invalid ones (negative cases) are left as they are."""
    if not path_parameters:
        return st.just(path_parameters)
    choices = {
        name: st.sampled_from([value, *KNOWN_IDS[name]])
        if KNOWN_IDS.get(name) and _is_uuid(value)
        else st.just(value)
        for name, value in path_parameters.items()
    }
    return st.fixed_dictionaries(choices)


DOCUMENT = create_app(Settings()).openapi()
"""The document the app serves at ``/openapi.json`` (built by the same call, without storage)."""


def html_page(path: str, method: str) -> bool:
    """An HTML page (a dashboard, the docs): not part of the JSON API, so not driven here."""
    answers = DOCUMENT["paths"][path].get(method, {}).get("responses", {})
    media = {
        media_type
        for status, answer in answers.items()
        if status.startswith("2")
        for media_type in answer.get("content", {})
    }
    return bool(media) and all(media_type.startswith("text/html") for media_type in media)


def served_schema(max_examples: int, *, all_phases: bool) -> Any:
    """The served document, driven through ``SERVING``: deterministic, with a fixed number of examples."""
    schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(
        lambda ctx: html_page(ctx.operation.path, ctx.operation.method)
    )
    schema.app = SERVING
    schema.config.seed = 461
    # The token is sent by the test (admin, reporter or none); schemathesis' own auth probes send none
    # and a wrong one. Generated Authorization headers would only ever be wrong tokens.
    schema.config.generation.update(
        max_examples=max_examples, deterministic=True, database="none", with_security_parameters=False
    )
    phases = schema.config.phases
    phases.coverage.generate_duplicate_query_parameters = True
    phases.examples.enabled = phases.coverage.enabled = all_phases
    checks = schema.config.checks
    # 503 is the documented answer when ``min_position`` is not reached in time (and only that, see
    # ``only_projections_behind_is_unavailable``).
    checks.not_a_server_error.expected_statuses = ["2xx", "3xx", "4xx", "503"]
    # Schema-valid input can still break a rule the schema cannot express (a CVR checksum, a legal basis
    # that does not exist, an end before the start): 409, 412 or 422 by the contract; 503 as above.
    checks.positive_data_acceptance.expected_statuses = [
        "2xx",
        "401",
        "403",
        "404",
        "409",
        "412",
        "422",
        "503",
    ]
    schema.hook(flatmap_path_parameters)
    return schema


admin = served_schema(MAX_EXAMPLES, all_phases=True)
sliced = served_schema(SLICE_EXAMPLES, all_phases=False)
# PostgreSQL: the reads with every phase (their query values reach SQL), the writes with a few random
# cases (their bodies are checked before anything is stored, the same on both storages).
postgres_reads = served_schema(SLICE_EXAMPLES, all_phases=True).include(method="GET")
postgres_writes = served_schema(SLICE_EXAMPLES, all_phases=False).exclude(method="GET")
SQLITE = pytest.mark.parametrize("served", ["sqlite"], indirect=True)
POSTGRES = pytest.mark.parametrize(
    "served", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def only_projections_behind_is_unavailable(ctx: Any, response: Any, case: Any) -> bool | None:
    """The one 503 a healthy database gives: ``min_position`` not reached in time, with Retry-After."""
    if response.status_code == 503:
        assert "min_position" in (case.query or {}), "503 without min_position: storage unavailable"
        assert response.json()["type"] == "/problems/projections-behind", response.text
        assert response.headers.get("retry-after"), "503 without Retry-After"
    return None


def invalid_batches_are_refused_or_rejected(ctx: Any, response: Any, case: Any) -> bool | None:
    """``POST /events`` checks each item on its own: a batch the document calls invalid is refused
    whole (4xx) or answered 200 with its invalid items ``rejected``, never all accepted."""
    if response.status_code == 200:
        results = response.json()["results"]
        assert any(result["status"] == "rejected" for result in results), response.text
    return None


def call_and_validate(served: Served, case: Any, role: str | None) -> Any:
    """Send the case with the role's token (or none) and run every check on the answer. A batch whose
    only flaw is in an item is answered 200 with that item rejected (the contract), which
    schemathesis' negative-data check would call a schema-violating request accepted."""
    served.calls[role or "anonymous"] += 1
    served.operations.add(case.operation.label)
    headers = {"Authorization": f"Bearer {served.tokens[role]}"} if role else {}
    additional: list[Any] = [only_projections_behind_is_unavailable]
    excluded: list[Any] = []
    negative = case.meta is not None and case.meta.generation.mode is GenerationMode.NEGATIVE
    if case.operation.label == "POST /events" and negative:
        additional.append(invalid_batches_are_refused_or_rejected)
        excluded.append(negative_data_rejection)
    return case.call_and_validate(headers=headers, additional_checks=additional, excluded_checks=excluded)


@admin.parametrize()
@SQLITE
def test_every_operation_answers_as_documented_for_an_admin(case: Any, served: Served) -> None:
    call_and_validate(served, case, "admin")


@sliced.parametrize()
@SQLITE
def test_every_operation_answers_as_documented_for_a_reporter(case: Any, served: Served) -> None:
    call_and_validate(served, case, "reporter")


PUBLIC = ("/healthz", "/readyz", "/metrics")


@sliced.parametrize()
@SQLITE
def test_every_operation_answers_401_as_documented_without_a_token(case: Any, served: Served) -> None:
    response = call_and_validate(served, case, None)
    if case.operation.path in PUBLIC or response.status_code == 405:
        return
    # A request that reaches an operation is refused before anything is looked at, but for a body that
    # is not JSON at all (it is parsed first) and a path that names no route.
    kind = response.json()["type"]
    assert response.status_code == 401 or kind in NOT_REACHED, response.text


NOT_REACHED = ("/problems/malformed-json", "/problems/no-such-route")


@postgres_reads.parametrize()
@POSTGRES
def test_every_read_answers_as_documented_for_an_admin_on_postgresql(case: Any, served: Served) -> None:
    call_and_validate(served, case, "admin")


@postgres_writes.parametrize()
@POSTGRES
def test_every_write_answers_as_documented_for_an_admin_on_postgresql(case: Any, served: Served) -> None:
    call_and_validate(served, case, "admin")


# -- hostile values in every query and path parameter --------------------------------------------------
# Schemathesis does not send NUL, broken UTF-8 or 64-bit overflows in query strings by itself; these go
# to every parameter of every read in the document, already percent-encoded as a client would send them.

HOSTILE_VALUES = (
    "%00",
    "a%00b",
    "%ED%A0%80",  # a lone surrogate, as UTF-8
    "%FF%FE",  # not UTF-8 at all
    "x" * 5000,
    str(2**63),
    str(-(2**63) - 1),
    "1" + "0" * 30,
    "",
    "%20",
    "%27%3B--",
)


def _reads() -> list[tuple[str, dict[str, Any]]]:
    return [
        (path, operations["get"])
        for path, operations in DOCUMENT["paths"].items()
        if "get" in operations and not html_page(path, "get")
    ]


def _routed_elsewhere(response: Any) -> bool:
    """A hostile path segment can make the path name no route (404) or another one (405)."""
    return response.status_code == 405 or (
        response.status_code == 404 and response.json()["type"] == "/problems/no-such-route"
    )


def test_hostile_values_in_every_parameter_of_every_read_never_cause_a_server_error(served: Served) -> None:
    refused: list[str] = []
    with asgi.get_client(SERVING) as client:
        client.headers["Authorization"] = f"Bearer {served.tokens['admin']}"
        for path, operation in _reads():
            documented = set(operation["responses"])
            parameters = operation.get("parameters", [])
            ids = {p["name"]: served.ids.get(p["name"], [str(UUID(int=1))])[0] for p in parameters}
            real_path = path.format(**ids)
            urls = [
                f"{real_path}?{parameter['name']}={value}"
                for parameter in parameters
                if parameter["in"] == "query"
                for value in HOSTILE_VALUES
            ]
            urls += [
                path.format(**{name: value for name in ids})
                for value in HOSTILE_VALUES
                if value and "{" in path
            ]
            for url in urls:
                response = client.get(url)
                served.calls["hostile"] += 1
                status = str(response.status_code)
                behind = status == "503" and "min_position=" in url
                if response.status_code >= 500 and not behind:
                    refused.append(f"GET {url[:120]} → {status} {response.text[:200]}")
                elif status not in documented and not _routed_elsewhere(response):
                    refused.append(f"GET {url[:120]} → undocumented {status} {response.text[:200]}")
    assert not refused, "\n".join(refused)


def test_every_operation_of_the_document_was_driven(served: Served) -> None:
    documented = {
        operation.label
        for operation in (result.ok() for result in admin.get_all_operations())
        if not html_page(operation.path, operation.method)
    }
    assert served.operations == documented
    assert served.ids["referral_id"] and served.ids["supplier_id"]
    # Shown with ``pytest -rP``: how much the run did (the notes record it).
    print(f"schemathesis cases sent: {dict(served.calls)} over {len(documented)} operations")  # noqa: T201
