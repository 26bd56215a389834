"""An integrator's client, generated from the live OpenAPI document by openapi-python-client, drives
the API with its typed models and endpoint functions only: a whole lifecycle, a batch, the reads,
``ETag`` for ``If-Match`` and problem answers as typed objects. If the document is vaguer or other
than the server, this is where it shows."""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api.bodies import new_cvr
from tests.api.generated_client import PACKAGE, generated_client
from tests.tokens import new_token


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('generated') / 'caseledger.sqlite'}"
    with TestClient(create_app(Settings(database_url=url))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def generated(app_client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The generated package's models and endpoint modules."""
    with generated_client(app_client.get("/openapi.json").json(), tmp_path_factory.mktemp("client")):
        yield _Generated()


class _Generated:
    """The generated package: ``models`` and each endpoint's module by its path under ``api``."""

    def __init__(self) -> None:
        self.package = importlib.import_module(PACKAGE)
        self.models = importlib.import_module(f"{PACKAGE}.models")

    def endpoint(self, path: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.api.{path}")


@pytest.fixture
def api(generated: Any, app_client: TestClient) -> Any:
    """An authenticated generated client whose requests go to the app in process."""
    client = generated.package.AuthenticatedClient(base_url="http://testserver", token=new_token(app_client))
    client.set_httpx_client(app_client)
    app_client.headers["Authorization"] = f"Bearer {client.token}"
    return client


def _day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def _referral(models: Any, actor: Any, citizen_ref: str, purpose: str, *dates: str, **more: Any) -> Any:
    """A family-treatment referral under BL-32-1-5 in Odense (461); ``dates``: the requested start,
    the expected end and the day it was referred."""
    start, end, referred_on = dates
    return models.ReferralIn(
        municipality="461",
        citizen_ref=citizen_ref,
        legal_basis="BL-32-1-5",
        intervention="family-treatment",
        purpose=purpose,
        requested_start=_day(start),
        expected_end=_day(end),
        referred_on=_day(referred_on),
        actor=actor,
        **more,
    )


def test_a_lifecycle_a_batch_and_the_reads_through_the_generated_client(generated: Any, api: Any) -> None:
    models, endpoint = generated.models, generated.endpoint
    matcher = models.ActorIn(id="matcher-1", name="Mette Matcher")
    worker = models.ActorIn(id="sw-1")

    supplier = endpoint("suppliers.register_supplier").sync(
        client=api,
        body=models.SupplierIn(
            name="Familiehuset Fyn ApS",
            cvr=new_cvr(),
            contact=models.ContactIn(name="Hanne Hansen", email="hanne@familiehuset.dk"),
            actor=matcher,
        ),
    )
    assert isinstance(supplier, models.WriteResultOut), supplier
    supplier_id = UUID(str(supplier.id))
    priced = endpoint("suppliers.negotiate_price_list").sync(
        supplier_id,
        client=api,
        body=models.PriceListIn(
            municipality="461",
            negotiated_on=_day("2025-12-01"),
            valid_from=_day("2026-01-01"),
            rates=[
                models.RateIn(intervention="family-treatment", unit=models.RateInUnit.HOUR, rate="850.00")
            ],
            actor=matcher,
        ),
    )
    assert isinstance(priced, models.WriteResultOut), priced

    referred = endpoint("referrals.refer").sync(
        client=api,
        body=_referral(
            models,
            worker,
            "B-7f3a9c",
            "Styrke forældrekompetencer",
            "2026-01-15",
            "2026-03-31",
            "2026-01-05",
            requested_hours_per_week="3",
        ),
    )
    assert isinstance(referred, models.WriteResultOut), referred
    referral_id = UUID(str(referred.id))

    def write(operation: str, body: Any, **headers: str) -> None:
        """A write on the referral, answered with its typed result."""
        answer = endpoint(f"referrals.{operation}").sync(referral_id, client=api, body=body, **headers)
        assert isinstance(answer, models.WriteResultOut), (operation, answer)

    write(
        "match",
        models.MatchIn(
            supplier_id=supplier_id, rationale="Best fit", matched_on=_day("2026-01-08"), actor=matcher
        ),
    )
    write(
        "agree_price",
        models.HourlyPriceAgreementIn(
            hourly_rate="850.00",
            hours_per_week="3",
            start=_day("2026-01-15"),
            end=_day("2026-03-31"),
            agreed_on=_day("2026-01-10"),
            actor=matcher,
        ),
    )

    # If-Match from the read's ETag: the current version is accepted, a stale one is a typed 412.
    read = endpoint("referrals.get_referral").sync_detailed(referral_id, client=api)
    assert read.status_code == 200
    assert isinstance(read.parsed, models.ReferralOut)
    etag = read.headers["ETag"]
    extension = models.ExtensionIn(
        new_end=_day("2026-04-30"), rationale="Progress is good", decided_on=_day("2026-03-20"), actor=worker
    )
    stale = endpoint("referrals.extend").sync_detailed(
        referral_id, client=api, body=extension, if_match=f'"{read.parsed.version - 1}"'
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.ProblemOut)
    assert stale.parsed.type_.endswith("version-mismatch")
    write("extend", extension, if_match=etag)
    adjustment = models.AdjustmentIn(
        effective_from=_day("2026-04-01"),
        hours_per_week="2",
        rationale="Fewer hours",
        decided_on=_day("2026-03-25"),
        actor=worker,
    )
    write("adjust", adjustment)
    reason = models.ClosureInReason.GOAL_ACHIEVED
    write(
        "close",
        models.ClosureIn(
            closed_on=_day("2026-04-15"), reason=reason, rationale="The goals are met", actor=worker
        ),
    )

    # A typed batch: a referral filed and matched as two items.
    batch_referral = UUID("0b3c5a1e-6d2f-4c7a-9e41-7f1a2b3c4d5e")
    batch = endpoint("batch_ingestion.ingest").sync(
        client=api,
        body=models.BatchIn(
            source_system="DUBU",
            events=[
                models.ReferralReferredItem(
                    event_id="dubu-1",
                    type_="referral.referred",
                    referral_id=batch_referral,
                    data=_referral(
                        models, worker, "B-1", "Støtte i hjemmet", "2026-02-01", "2026-06-30", "2026-01-20"
                    ),
                ),
                models.ReferralMatchedItem(
                    event_id="dubu-2",
                    type_="referral.matched",
                    referral_id=batch_referral,
                    data=models.MatchIn(
                        supplier_id=supplier_id,
                        rationale="Best fit",
                        matched_on=_day("2026-01-25"),
                        actor=matcher,
                    ),
                ),
            ],
        ),
    )
    assert isinstance(batch, models.BatchOut), batch
    assert [str(result.status) for result in batch.results] == ["accepted", "accepted"]

    # The reads, each parsed into its typed model.
    state = endpoint("referrals.get_referral").sync(referral_id, client=api)
    assert isinstance(state, models.ReferralOut)
    assert str(state.status) == "closed"
    spending = endpoint("reports.spending").sync(client=api, from_="2026-01", to="2026-12")
    assert isinstance(spending, models.SpendingOut), spending
    trail = endpoint("audit.referral_trail").sync(referral_id, client=api)
    assert isinstance(trail, models.TrailOut), trail
    assert len(trail.entries) == 6
    # Each entry's ``data`` is typed by the entry's ``type``.
    matched = trail.entries[1]
    assert isinstance(matched, models.ReferralMatchedTrailEntryOut), matched
    assert isinstance(matched.data, models.ReferralMatchedData)
    assert matched.data.supplier_id == supplier_id and matched.data.matched_on == _day("2026-01-08")
    events = endpoint("referrals.referral_events").sync(referral_id, client=api)
    assert isinstance(events, list)
    assert [type(event).__name__ for event in events] == [
        "ReferralReferredEventOut",
        "ReferralMatchedEventOut",
        "ReferralPriceAgreedEventOut",
        "ReferralExtendedEventOut",
        "ReferralAdjustedEventOut",
        "ReferralClosedEventOut",
    ]
    assert isinstance(events[2].data, models.ReferralPriceAgreedData)
    assert events[2].data.hourly_rate == "850.00"
    verified = endpoint("audit.verify").sync(client=api)
    assert isinstance(verified, models.VerificationOut), verified
    assert verified.ok


def test_every_operation_has_a_unique_id_named_for_its_route(app_client: TestClient) -> None:
    document = app_client.get("/openapi.json").json()
    ids = [
        operation["operationId"] for methods in document["paths"].values() for operation in methods.values()
    ]
    assert len(ids) == len(set(ids))
    assert {"refer", "agree_price", "get_referral", "ingest", "spending", "verify"} <= set(ids)
