"""Bad input never verifies: every file of the hostile corpus (tests/signatures/corpus.py) is
"not valid" with the reason a person is told, and never an exception; random damage to a sealed
PDF is never valid; and the timestamp authority answers malformed requests with a proper
RFC 3161 rejection, over HTTP too.

The corpus is built once per test process from a database of its own: sealing is the slow part
(keys, certificates, CRLs, a timestamp), and every case starts from the same sealed receipt.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from asn1crypto import tsp  # type: ignore[import-untyped]
from cryptography import x509
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.settings import Settings
from madoguchi.core.tenancy import enter_tenant
from madoguchi.signatures import service
from madoguchi.signatures.checking import check_document
from madoguchi.signatures.pdf_signing import Evidence, SignatureRequest, add_signature
from madoguchi.signatures.pki.authorities import chain_of, load_authority
from madoguchi.signatures.pki.profiles import CaName
from madoguchi.signatures.pki.seals import Body, seal_of
from madoguchi.signatures.sealing import evidence, seal_document, timestamper
from madoguchi.signatures.timestamps import (
    MAX_REQUEST_BYTES,
    REQUEST_MEDIA_TYPE,
    RESPONSE_MEDIA_TYPE,
    TimeStampResp,
)
from madoguchi.signatures.verification import (
    CHANGED_AFTER,
    COVERING_FIELD_ADDED,
    EXPIRED_THEN,
    NOT_INTACT,
    NOT_PDF,
    REVOKED_THEN,
    TOO_LARGE,
    TOO_MUCH_CONTENT,
    UNFINISHED,
    UNREADABLE,
    UNTRUSTED,
    check_pdf,
)
from madoguchi.tenants import service as tenants
from tests.conftest import TEST_SECRET
from tests.signatures import corpus
from tests.signatures.test_sealing import simple_pdf
from tests.support.databases import Backend

pytestmark = pytest.mark.xdist_group("corpus")  # one worker builds the corpus once


@dataclass(frozen=True)
class Corpus:
    settings: Settings  # of the corpus's own database, kept until the module ends
    sealed: bytes  # the sealed receipt every byte-level case starts from
    files: dict[str, bytes]  # name → hostile file
    evidence: Evidence
    revoked_after_signing: bytes

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text("<the corpus>")  # hypothesis would print megabytes of PDF in a failure


@pytest.fixture(scope="module")
def built(
    backend: Backend, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Corpus]:
    directory = tmp_path_factory.mktemp("corpus")
    url = backend.clone(template_database, directory, "corpus")
    settings = Settings(database_url=url, data_dir=directory / "data", secret_key=TEST_SECRET)
    try:
        yield asyncio.run(_build(settings))  # not in pytest-asyncio's loop: module-wide
    finally:
        backend.drop(url)


async def _build(settings: Settings) -> Corpus:
    engine = create_engine(settings.database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            return await _build_in(session, settings)
    finally:
        await engine.dispose()


async def _body(session: AsyncSession, code: str) -> Body:
    tenant = await tenants.get_tenant(session, code)
    await enter_tenant(session, tenant.id)
    return Body(tenant.id, tenant.code, tenant.name)


async def _seal(session: AsyncSession, settings: Settings, body: Body, pdf: bytes) -> bytes:
    sealed = await seal_document(session, settings, body, pdf, kind="receipt", title="受付票")
    return sealed.pdf


async def _build_in(session: AsyncSession, settings: Settings) -> Corpus:
    chiyoda = await _body(session, "131016")
    sealed = await _seal(session, settings, chiyoda, simple_pdf())
    prepared, hidden = corpus.with_hidden_content(simple_pdf())
    shadowed = await _seal(session, settings, chiyoda, prepared)
    files = _from_sealed(sealed)
    files["shadow: page switched to signed hidden content"] = corpus.switched_to_hidden(
        shadowed, hidden
    )
    files |= await _by_bad_certificates(session, settings, chiyoda, sealed)
    chuo = await _body(session, "131024")  # its seals are revoked: Chiyoda's stay good
    revoked_after = await _revoked_cases(session, settings, chuo, files)
    return Corpus(settings, sealed, files, await evidence(session, settings), revoked_after)


def _from_sealed(sealed: bytes) -> dict[str, bytes]:
    half = len(sealed) // 2
    return {
        "one signed byte changed": corpus.one_signed_byte_changed(sealed),
        "byte range shortened": corpus.byte_range_shortened(sealed),
        "contents moved": corpus.contents_moved(sealed),
        "signature zeroed": corpus.signature_zeroed(sealed),
        "hole stuffed": corpus.hole_stuffed(sealed),
        "content stream appended": corpus.with_content_appended(sealed),
        "contents replaced": corpus.with_contents_replaced(sealed),
        "content stream redefined": corpus.with_stream_redefined(sealed),
        "white overlay annotation": corpus.with_white_overlay(sealed),
        "free text annotation": corpus.with_free_text(sealed),
        "unsigned signature field overlay": corpus.with_unsigned_signature_field_overlay(sealed),
        "objects appended without a cross-reference section": corpus.appended_without_xref(sealed),
        "truncated at half": corpus.truncated(sealed, half),
        "truncated at the signed revision plus one byte": corpus.truncated(
            sealed, sum(corpus.byte_range(sealed)[2:]) + 1
        ),
        "truncated by 10 bytes": corpus.truncated(sealed, len(sealed) - 10),
        "png": corpus.png_file(),
        "zip": corpus.zip_file(sealed),
        "zip, stored": corpus.zip_file(sealed, compressed=False),
        "empty": b"",
        "pdf header then garbage": corpus.pdf_header_then_garbage(),
        "pdf header, garbage, then %%EOF": corpus.pdf_header_then_garbage() + b"%%EOF\n",
        "over the size limit": corpus.oversized(sealed),
        "flate bomb content stream": corpus.with_bomb_stream(sealed),
        "flate bomb object stream": corpus.with_bomb_object_stream(sealed),
        "deep nesting": corpus.deeply_nested(sealed),
        "xref loop": corpus.xref_loop(sealed),
        "huge page count": corpus.huge_page_count(sealed),
    }


async def _by_bad_certificates(
    session: AsyncSession, settings: Settings, body: Body, sealed: bytes
) -> dict[str, bytes]:
    stamper = await timestamper(session, settings)
    authority = await load_authority(session, settings, CaName.SEALS)
    chain = await chain_of(session, settings, CaName.SEALS)
    key = (await seal_of(session, settings, body)).key
    expired = corpus.expired_seal_signer(authority, chain, key, body.name)
    return {
        "unknown authority": await corpus.signed_plainly(
            simple_pdf(), corpus.unknown_authority_signer(body.name), stamper
        ),
        "expired certificate": await corpus.signed_plainly(simple_pdf(), expired, stamper),
    }


async def _revoked_cases(
    session: AsyncSession, settings: Settings, body: Body, files: dict[str, bytes]
) -> bytes:
    """A seal used, then revoked (returned: still valid); and seals revoked, then used (added to
    ``files``: not valid), signed with the CRLs from before the revocation, as a signer whose
    copy is stale would."""
    first = await seal_of(session, settings, body)
    revoked_after = await _seal(session, settings, body, simple_pdf())
    # Past the token's genTime + accuracy (1 s): within it, a revocation counts as before.
    await asyncio.sleep(1.1)
    await _revoke(session, first.certificate)
    a_minute_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    files["revoked a minute before signing"] = await _sign_revoked(
        session, settings, body, a_minute_ago
    )
    files["revoked the same second"] = await _sign_revoked(session, settings, body, None)
    return revoked_after


async def _sign_revoked(
    session: AsyncSession, settings: Settings, body: Body, when: dt.datetime | None
) -> bytes:
    frozen = await seal_of(session, settings, body)  # new: every earlier one is revoked
    stale = await evidence(session, settings)
    await _revoke(session, frozen.certificate, when)
    request = SignatureRequest(identity=frozen, field_name="Seal-revoked", signer_name=body.name)
    return await add_signature(simple_pdf(), request, stale, await timestamper(session, settings))


async def _revoke(
    session: AsyncSession, certificate: x509.Certificate, when: dt.datetime | None = None
) -> None:
    serial = corpus.serial_of(certificate)
    await service.revoke_certificate(session, serial, service.Reason.KEY_COMPROMISE, when)


# --- every hostile file: not valid, for the reason a person is told --------------------------

EXPECTED = {
    "one signed byte changed": NOT_INTACT,
    "byte range shortened": NOT_INTACT,
    "contents moved": NOT_INTACT,
    "signature zeroed": UNREADABLE,  # no CMS to read: no signature to speak of
    "hole stuffed": CHANGED_AFTER,  # pyHanko: the hole is more than /Contents ("unclear")
    "content stream appended": CHANGED_AFTER,
    "contents replaced": CHANGED_AFTER,
    "content stream redefined": CHANGED_AFTER,
    "white overlay annotation": CHANGED_AFTER,
    "free text annotation": CHANGED_AFTER,
    "unsigned signature field overlay": COVERING_FIELD_ADDED,
    "shadow: page switched to signed hidden content": CHANGED_AFTER,
    "objects appended without a cross-reference section": UNFINISHED,
    "truncated at half": UNFINISHED,
    "truncated at the signed revision plus one byte": UNFINISHED,
    "truncated by 10 bytes": UNFINISHED,
    "png": NOT_PDF,
    "zip": NOT_PDF,
    "zip, stored": UNFINISHED,  # "%PDF-" in its first KiB, then a ZIP's directory
    "empty": NOT_PDF,
    "pdf header then garbage": UNFINISHED,
    "pdf header, garbage, then %%EOF": UNREADABLE,
    "over the size limit": TOO_LARGE,
    "flate bomb content stream": CHANGED_AFTER,  # never decoded: only its arrival counts
    "flate bomb object stream": TOO_MUCH_CONTENT,
    "deep nesting": UNREADABLE,
    "xref loop": UNREADABLE,
    "huge page count": CHANGED_AFTER,
    "unknown authority": UNTRUSTED,
    "expired certificate": EXPIRED_THEN,
    "revoked a minute before signing": REVOKED_THEN,
    "revoked the same second": REVOKED_THEN,  # genTime + accuracy is after the revocation
}


def test_the_corpus_holds_every_case_and_the_original_is_valid(built: Corpus) -> None:
    assert set(built.files) == set(EXPECTED)
    assert asyncio.run(check_pdf(built.sealed, built.evidence)).valid  # the tests can fail


@pytest.mark.parametrize("name", EXPECTED)
async def test_a_hostile_file_is_not_valid_and_says_why(built: Corpus, name: str) -> None:
    started = time.perf_counter()
    verdict = await check_pdf(built.files[name], built.evidence)
    assert time.perf_counter() - started < 10  # bombs and loops are refused, not endured
    assert not verdict.valid
    assert [problem.message for problem in verdict.all_problems] == [EXPECTED[name]]


async def test_a_revocation_gives_its_date(built: Corpus) -> None:
    verdict = await check_pdf(built.files["revoked a minute before signing"], built.evidence)
    (problem,) = verdict.all_problems
    assert problem.params["date"] == dt.datetime.now(dt.UTC).date().isoformat()


async def test_the_over_size_file_says_the_limit(built: Corpus) -> None:
    verdict = await check_pdf(built.files["over the size limit"], built.evidence)
    assert verdict.problems[0].params == {"limit": "20"}


async def test_a_seal_revoked_after_signing_stays_valid_and_says_since_when(
    built: Corpus,
) -> None:
    engine = create_engine(built.settings.database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            verdict = await check_document(session, built.settings, built.revoked_after_signing)
    finally:
        await engine.dispose()
    assert verdict.valid, verdict.all_problems
    (check,) = verdict.signatures
    assert check.signed_at is not None
    assert check.revoked_since is not None
    assert check.revoked_since > check.signed_at


# --- random damage ----------------------------------------------------------------------------

RANDOM = hypothesis_settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])


@RANDOM
@given(where=st.integers(0, 2**32), flip=st.integers(1, 255))
def test_a_byte_changed_anywhere_the_signature_covers_is_never_valid(
    built: Corpus, where: int, flip: int
) -> None:
    _, length1, start2, length2 = corpus.byte_range(built.sealed)
    offset = where % (length1 + length2)  # a place in part 1 or part 2 of the signed bytes
    position = offset if offset < length1 else start2 + offset - length1
    altered = bytearray(built.sealed)
    altered[position] ^= flip
    assert not asyncio.run(check_pdf(bytes(altered), built.evidence)).valid


@RANDOM
@given(where=st.integers(0, 2**32))
def test_a_truncated_sealed_file_is_never_valid(built: Corpus, where: int) -> None:
    """Every cut but one: at the end of the signed revision the file is the document exactly
    as it was signed, only without the validation data added after, and that is valid."""
    _, _, start2, length2 = corpus.byte_range(built.sealed)
    length = where % (len(built.sealed) - 1)
    length += length >= start2 + length2  # skips that one
    assert not asyncio.run(check_pdf(built.sealed[:length], built.evidence)).valid


async def test_cut_at_the_end_of_the_signed_revision_the_file_is_the_signed_document(
    built: Corpus,
) -> None:
    _, _, start2, length2 = corpus.byte_range(built.sealed)
    assert (await check_pdf(built.sealed[: start2 + length2], built.evidence)).valid


@RANDOM
@given(where=st.integers(0, 2**32), flip=st.integers(1, 255))
def test_a_byte_changed_in_the_signature_itself_never_raises(
    built: Corpus, where: int, flip: int
) -> None:
    """The hole the signature sits in is outside what it signs, by design; pyHanko reads only
    the DER it holds, so a change in the zero padding after it, or to the case of a hex digit,
    changes nothing, and a change in an embedded copy of a trusted certificate is not used.
    So here only: a verdict, never an exception (every other change fails the CMS check)."""
    _, length1, start2, _ = corpus.byte_range(built.sealed)
    altered = bytearray(built.sealed)
    altered[length1 + where % (start2 - length1)] ^= flip
    asyncio.run(check_pdf(bytes(altered), built.evidence))


# --- the timestamp authority over HTTP --------------------------------------------------------

DIGEST = hashlib.sha256(b"a receipt").digest()


def _request(**fields: Any) -> bytes:
    imprint = {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": DIGEST}
    return bytes(tsp.TimeStampReq({"version": 1, "message_imprint": imprint, **fields}).dump())


def _imprint(algorithm: str, digest: bytes) -> dict[str, Any]:
    return {"hash_algorithm": {"algorithm": algorithm}, "hashed_message": digest}


MALFORMED = {
    "empty": (b"", "bad_data_format"),
    "text": (b"please timestamp this", "bad_data_format"),
    "truncated": (_request()[:-3], "bad_data_format"),
    "a PDF": (b"%PDF-1.7\n%%EOF\n", "bad_data_format"),
    "over the size limit": (b"\x30" * (MAX_REQUEST_BYTES + 100), "bad_data_format"),
    "version 2": (_request(version=2), "bad_request"),
    "sha1": (_request(message_imprint=_imprint("sha1", bytes(20))), "bad_alg"),
    "short digest": (_request(message_imprint=_imprint("sha256", DIGEST[:20])), "bad_data_format"),
    "other policy": (_request(req_policy="1.2.3.4"), "unaccepted_policy"),
    "an extension": (
        _request(extensions=[{"extn_id": "1.2.3.4", "extn_value": b"\x05\x00"}]),
        "unaccepted_extensions",
    ),
}


def _posted(client: TestClient, body: bytes) -> Any:
    response = client.post(
        "/pki/timestamp", content=body, headers={"Content-Type": REQUEST_MEDIA_TYPE}
    )
    assert response.status_code == 200  # RFC 3161 §3.4: the refusal is in the reply
    assert response.headers["content-type"] == RESPONSE_MEDIA_TYPE
    return TimeStampResp.load(response.content)


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_timestamp_request_gets_a_rejection_with_its_failure(
    client: TestClient, name: str
) -> None:
    body, failure = MALFORMED[name]
    status = _posted(client, body)["status"]
    assert status["status"].native == "rejection"
    assert status["fail_info"].native == {failure}
    assert status["status_string"].native[0]


def test_a_well_formed_request_is_granted_over_http(client: TestClient) -> None:
    reply = _posted(client, _request(cert_req=True))
    assert reply["status"]["status"].native == "granted"
    info = reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == DIGEST
