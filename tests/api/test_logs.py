"""The server's own log holds no personal data: ``caseledger serve`` (one process, and several with
``api.supervisor``) writes no ``citizen_ref``, ``case_ref`` or ``purpose`` value, and a logged
exception quoting a request's input is masked too."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError
from uvicorn.logging import DefaultFormatter

from api.logs import RedactingFilter, redact_target
from api.schemas import ReferralIn
from tests.api import bodies
from tests.api.test_serve_workers import serving

CITIZEN, CASE, PURPOSE = "B-LOGGED-4711", "SAG-LOGGED-4712", "Formaal-LOGGED-4713"


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "supervised"])
def test_serve_writes_no_citizen_ref_case_ref_or_purpose_into_its_log(
    db_url: str, tmp_path: Path, workers: int
) -> None:
    with serving(db_url, tmp_path, workers=workers) as service:
        created = service.client.post(
            "/referrals", json=bodies.referral(citizen_ref=CITIZEN, case_ref=CASE, purpose=PURPOSE)
        )
        assert created.status_code == 201, created.text
        asked = service.client.get(
            "/audit/access-log", params={"citizen_ref": CITIZEN, "page": 1, "page_size": 10}
        )
        assert asked.status_code == 200, asked.text
        stray = service.client.get("/referrals", params={"case_ref": CASE, "purpose": PURPOSE, "page": 2})
        assert stray.status_code == 200, stray.text
        refused = service.client.post(
            "/referrals", json=bodies.referral(purpose=PURPOSE, requested_start="soon")
        )
        assert refused.status_code == 422
        log = service.log.read_text()

    assert "GET /audit/access-log?citizen_ref=***&page=1&page_size=10 HTTP/1.1" in log, log[-3000:]
    assert "GET /referrals?case_ref=***&purpose=***&page=2 HTTP/1.1" in log
    assert 'POST /referrals HTTP/1.1" 201' in log
    for value in (CITIZEN, CASE, PURPOSE, "LOGGED"):
        assert value not in log


def test_a_logged_exception_quoting_the_input_it_refused_is_masked() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s", use_colors=False))
    logger = logging.getLogger("caseledger.tests.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        body = bodies.referral(citizen_ref=CITIZEN, case_ref=CASE, purpose=PURPOSE + " x" * 5000)
        with pytest.raises(ValidationError) as refused:
            ReferralIn.model_validate(body)
        assert PURPOSE in str(refused.value)  # pydantic quotes the whole input
        logger.error("unexpected error on POST /referrals?citizen_ref=%s", CITIZEN, exc_info=refused.value)
        logger.warning("could not handle %s", {"purpose": PURPOSE, "case_ref": CASE, "page": 2})
    finally:
        logger.removeHandler(handler)

    written = out.getvalue()
    assert "ValidationError" in written and "/referrals?citizen_ref=***" in written
    assert "{'purpose': ***, 'case_ref': ***, 'page': 2}" in written
    for value in (CITIZEN, CASE, PURPOSE, "LOGGED"):
        assert value not in written


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/referrals", "/referrals"),
        ("/audit/access-log?citizen_ref=B-1&page=2", "/audit/access-log?citizen_ref=***&page=2"),
        ("/x?citizen%5Fref=B-1&q=free+text&flag", "/x?citizen%5Fref=***&q=***&flag"),
        ("/reports/spending?from=2026-01&by=supplier", "/reports/spending?from=2026-01&by=supplier"),
    ],
)
def test_a_request_target_keeps_only_the_values_of_parameters_without_personal_data(
    target: str, logged: str
) -> None:
    assert redact_target(target) == logged
