"""The platform PKI: authorities made once, e-seals per body, revocation and CRLs."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.core.tenancy import enter_tenant
from madoguchi.signatures import service
from madoguchi.signatures.keys.software import SoftwareKeys
from madoguchi.signatures.models import Authority, IssuedCertificate
from madoguchi.signatures.pki.assemble import signed_certificate
from madoguchi.signatures.service import Body, CaName, Reason
from madoguchi.tenants import service as tenants

CHIYODA = "131016"


async def _body(session: AsyncSession, code: str = CHIYODA) -> Body:
    tenant = await tenants.get_tenant(session, code)
    await enter_tenant(session, tenant.id)
    return Body(tenant.id, tenant.code, tenant.name)


def _pem(certificates: list[x509.Certificate], path: Path) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates))
    return path


async def test_the_authorities_are_made_once_and_chain_to_the_root(
    session: AsyncSession, settings: Settings
) -> None:
    chain = await service.chain_of(session, settings, CaName.TSA)
    again = await service.chain_of(session, settings, CaName.TSA)
    assert [c.serial_number for c in chain] == [c.serial_number for c in again]
    tsa, timestamps, root = chain
    tsa.verify_directly_issued_by(timestamps)
    timestamps.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert await session.scalar(select(func.count()).select_from(Authority)) == 3
    recorded = await session.scalar(select(func.count()).select_from(IssuedCertificate))
    assert recorded == 3  # the root, the timestamping CA and the TSA


async def test_a_body_gets_its_e_seal_when_it_first_needs_one(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    body = await _body(session)
    seal = await service.seal_of(session, settings, body)
    assert (await service.seal_of(session, settings, body)).certificate == seal.certificate
    names = seal.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert names[0].value == "千代田区"
    root, issuing = seal.chain[-1], seal.chain[:-1]
    verdict = _run(  # an independent tool checks the chain
        [
            "openssl", "verify",
            "-CAfile", str(_pem([root], tmp_path / "root.pem")),
            "-untrusted", str(_pem(issuing, tmp_path / "issuing.pem")),
            str(_pem([seal.certificate], tmp_path / "seal.pem")),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verdict.returncode == 0, verdict.stderr
    signature = seal.key.sign(b"document")
    seal.certificate.public_key().verify(signature, b"document", *_pkcs1_sha256())


async def test_a_revoked_seal_is_in_the_next_crl_and_is_replaced(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    body = await _body(session)
    seal = await service.seal_of(session, settings, body)
    before = await service.crl_der(session, settings, CaName.SEALS)  # kept by this process
    assert await service.crl_der(session, settings, CaName.SEALS) == before
    serial = service.serial_text(seal.certificate.serial_number)
    await service.revoke_certificate(session, serial, Reason.KEY_COMPROMISE)
    crl = x509.load_der_x509_crl(await service.crl_der(session, settings, CaName.SEALS))
    entry = crl.get_revoked_certificate_by_serial_number(seal.certificate.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.key_compromise
    )
    assert crl.is_signature_valid(seal.chain[0].public_key())
    replacement = await service.seal_of(session, settings, body)
    assert replacement.certificate.serial_number != seal.certificate.serial_number
    paths = {
        "crl": tmp_path / "seals.crl",
        "root": _pem([seal.chain[-1]], tmp_path / "root.pem"),
        "issuing": _pem(seal.chain[:-1], tmp_path / "issuing.pem"),
        "seal": _pem([seal.certificate], tmp_path / "seal.pem"),
    }
    paths["crl"].write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    root_crl = x509.load_der_x509_crl(await service.crl_der(session, settings, CaName.ROOT))
    paths["crl"].write_bytes(
        crl.public_bytes(serialization.Encoding.PEM)
        + root_crl.public_bytes(serialization.Encoding.PEM)
    )
    verdict = _run(
        [
            "openssl", "verify", "-crl_check_all", "-CRLfile", str(paths["crl"]),
            "-CAfile", str(paths["root"]), "-untrusted", str(paths["issuing"]),
            str(paths["seal"]),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verdict.returncode != 0
    assert "revoked" in (verdict.stdout + verdict.stderr)


async def test_revoking_twice_keeps_the_first_time_and_an_unknown_serial_is_refused(
    session: AsyncSession, settings: Settings
) -> None:
    from madoguchi.core.errors import NotFound

    seal = await service.seal_of(session, settings, await _body(session))
    serial = service.serial_text(seal.certificate.serial_number)
    first = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    await service.revoke_certificate(session, serial, Reason.SUPERSEDED, first)
    row = await service.revoke_certificate(session, serial, Reason.KEY_COMPROMISE)
    assert row.revocation_reason == "superseded"
    with pytest.raises(NotFound):
        await service.revoke_certificate(session, "abc123", Reason.SUPERSEDED)


def test_reasons_are_parsed_with_a_clear_error() -> None:
    from madoguchi.core.errors import InvalidInput

    assert service.parse_reason("Key-Compromise") is Reason.KEY_COMPROMISE
    with pytest.raises(InvalidInput, match="key_compromise"):
        service.parse_reason("lost it")


def test_certificates_and_crls_are_published(client: TestClient) -> None:
    root = client.get("/pki/root.crt")
    assert root.status_code == 200
    assert root.headers["content-type"] == "application/pkix-cert"
    root_certificate = x509.load_der_x509_certificate(root.content)
    seals = client.get("/pki/seals.crl")
    assert seals.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(seals.content)
    seals_ca = x509.load_der_x509_certificate(client.get("/pki/seals.crt").content)
    seals_ca.verify_directly_issued_by(root_certificate)
    assert crl.is_signature_valid(seals_ca.public_key())
    assert client.get("/pki/tsa.crt").status_code == 200
    assert client.get("/pki/tsa.crl").status_code == 404
    assert client.get("/pki/nobody.crl").status_code == 404


def test_a_key_that_does_not_match_never_yields_a_certificate(settings: Settings) -> None:
    keys = SoftwareKeys(settings.resolved_secret_key())
    key, other = keys.generate("a"), keys.generate("b")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
    )

    class Mismatched:
        handle = "soft:x"

        def public_key(self):  # type: ignore[no-untyped-def]
            return key.public_key()

        def sign(self, data: bytes) -> bytes:
            return other.sign(data)

    with pytest.raises(InvalidSignature):
        signed_certificate(builder, Mismatched())


def _pkcs1_sha256() -> tuple[object, object]:
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.PKCS1v15(), hashes.SHA256()


def test_the_timestamp_authority_answers_over_http(client: TestClient, tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("madoguchi")
    query = tmp_path / "request.tsq"
    _run(
        ["openssl", "ts", "-query", "-data", str(data), "-sha256", "-cert", "-out", str(query)],
        check=True, capture_output=True,
    )  # fmt: skip
    reply = client.post(
        "/pki/timestamp",
        content=query.read_bytes(),
        headers={"Content-Type": "application/timestamp-query"},
    )
    assert reply.headers["content-type"] == "application/timestamp-reply"
    (tmp_path / "reply.tsr").write_bytes(reply.content)
    root = x509.load_der_x509_certificate(client.get("/pki/root.crt").content)
    chain = [client.get(f"/pki/{name}.crt").content for name in ("tsa", "timestamps")]
    _pem([root], tmp_path / "root.pem")
    _pem([x509.load_der_x509_certificate(der) for der in chain], tmp_path / "chain.pem")
    verdict = _run(
        [
            "openssl", "ts", "-verify", "-in", str(tmp_path / "reply.tsr"),
            "-queryfile", str(query), "-CAfile", str(tmp_path / "root.pem"),
            "-untrusted", str(tmp_path / "chain.pem"),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "Verification: OK" in verdict.stdout, verdict.stdout + verdict.stderr


def test_a_malformed_timestamp_request_gets_a_tsa_rejection(client: TestClient) -> None:
    from madoguchi.signatures.timestamps import TimeStampResp

    for body in (b"", b"not a request", b"\x30" * (70 * 1024)):
        reply = client.post("/pki/timestamp", content=body)
        assert reply.status_code == 200
        status = TimeStampResp.load(reply.content)["status"]
        assert status["status"].native == "rejection"
        assert "bad_data_format" in status["fail_info"].native


def _run(args: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    """An independent tool, run to its end (the tests wait for it on purpose)."""
    return subprocess.run(args, **options)  # type: ignore[call-overload,no-any-return]


def test_a_signing_device_that_fails_is_a_503_that_names_no_configuration(
    settings: Settings, tmp_path: Path
) -> None:
    from madoguchi.web.app import create_app

    broken = settings.model_copy(
        update={
            "signing_keys": "pkcs11",
            "pkcs11_module": str(tmp_path / "libmissing-hsm.so"),
            "pkcs11_token_label": "secret-label",
            "pkcs11_pin": "1234",
        }
    )
    with TestClient(create_app(broken), raise_server_exceptions=False) as client:
        client.cookies.set("lang", "en")
        answer = client.get("/pki/root.crt")
    assert answer.status_code == 503
    assert "signing device cannot be used just now" in answer.text
    assert "libmissing-hsm" not in answer.text and "secret-label" not in answer.text
