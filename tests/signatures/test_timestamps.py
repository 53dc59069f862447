"""The RFC 3161 authority: granted tokens that OpenSSL and pyHanko accept, and a proper
rejection (status, failInfo, statusString) for every kind of bad request."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given
from hypothesis import strategies as st
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from madoguchi.signatures.keys import SigningKey
from madoguchi.signatures.keys.software import SoftwareKeys
from madoguchi.signatures.timestamps import (
    MAX_REQUEST_BYTES,
    POLICY,
    PlatformTimeStamper,
    TimestampAuthority,
    TimeStampResp,
    answer,
)
from tests.conftest import TEST_SECRET

DIGEST = hashlib.sha256(b"the sealed receipt").digest()
OTHER_POLICY = "1.2.3.4.5"


# --- a throwaway PKI: a root and a TSA certificate it issued --------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: str, public_key: rsa.RSAPublicKey) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
    )


@dataclass(frozen=True)
class Pki:
    root: x509.Certificate
    authority: TimestampAuthority


@pytest.fixture(scope="module")
def pki() -> Pki:
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = (
        _builder("Test Root CA", "Test Root CA", root_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    tsa_key = SoftwareKeys(TEST_SECRET).generate("test tsa")
    tsa = (
        _builder("Test TSA", "Test Root CA", tsa_key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    return Pki(root, TimestampAuthority(certificate=tsa, chain=(root,), key=tsa_key))


# --- requests and responses -------------------------------------------------------------------


def _request(**fields: Any) -> bytes:
    imprint = {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": DIGEST}
    values = {"version": 1, "message_imprint": imprint, "cert_req": True, **fields}
    return bytes(tsp.TimeStampReq(values).dump())


def _answer(pki: Pki, request: bytes, serial: int = 7) -> Any:
    return TimeStampResp.load(answer(request, pki.authority, datetime.now(UTC), serial))


def _tst_info(response: Any) -> Any:
    return response["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed


def _assert_refused(response: Any, failure: str) -> None:
    status = response["status"]
    assert status["status"].native == "rejection"
    assert status["fail_info"].native == {failure}
    (reason,) = status["status_string"].native
    assert reason.endswith(".")
    assert "\n" not in reason
    assert not response["time_stamp_token"].native


# --- granted ----------------------------------------------------------------------------------


def test_a_granted_token_stamps_the_digest_with_our_policy_serial_and_time(pki: Pki) -> None:
    moment = datetime(2026, 4, 1, 9, 30, 15, 987654, tzinfo=timezone(timedelta(hours=9)))
    response = TimeStampResp.load(answer(_request(), pki.authority, moment, 424242))

    assert response["status"]["status"].native == "granted"
    info = _tst_info(response).native
    assert info["version"] == "v1"
    assert info["policy"] == POLICY
    assert info["message_imprint"]["hashed_message"] == DIGEST
    assert info["serial_number"] == 424242
    assert info["gen_time"] == datetime(2026, 4, 1, 0, 30, 15, tzinfo=UTC)
    assert info["accuracy"] == {"seconds": 1, "millis": None, "micros": None}
    assert info["tsa"]["common_name"] == "Test TSA"


def test_openssl_verifies_the_token_against_the_request_it_answered(
    pki: Pki, tmp_path: Path
) -> None:
    (tmp_path / "data.txt").write_bytes(b"a document to timestamp")
    _openssl(tmp_path, "ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", "req.tsq")
    response = answer((tmp_path / "req.tsq").read_bytes(), pki.authority, datetime.now(UTC), 99)
    (tmp_path / "resp.der").write_bytes(response)
    _write_pem(tmp_path / "root.pem", pki.root)
    _write_pem(tmp_path / "tsa.pem", pki.authority.certificate)

    verify = ["ts", "-verify", "-in", "resp.der", "-CAfile", "root.pem", "-untrusted", "tsa.pem"]
    assert "Verification: OK" in _openssl(tmp_path, *verify, "-queryfile", "req.tsq").stdout
    (tmp_path / "other.txt").write_bytes(b"another document")
    refused = _openssl(tmp_path, *verify, "-data", "other.txt", check=False)
    assert refused.returncode != 0
    assert "message imprint mismatch" in refused.stderr


def _openssl(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=check)


def _write_pem(path: Path, certificate: x509.Certificate) -> None:
    path.write_bytes(certificate.public_bytes(Encoding.PEM))


async def test_pyhanko_finds_the_token_intact_and_trusted(pki: Pki) -> None:
    token = _answer(pki, _request())["time_stamp_token"]
    context = ValidationContext(trust_roots=[_asn1(pki.root)])

    status = TimestampSignatureStatus(
        **await validate_tst_signed_data(token["content"], context, lambda _: DIGEST)
    )

    assert status.intact and status.valid and status.trusted
    assert status.signing_cert.subject.native["common_name"] == "Test TSA"


async def test_pyhanko_finds_a_token_for_another_digest_not_intact(pki: Pki) -> None:
    token = _answer(pki, _request())["time_stamp_token"]
    context = ValidationContext(trust_roots=[_asn1(pki.root)])
    other = hashlib.sha256(b"something else").digest()

    status = await validate_tst_signed_data(token["content"], context, lambda _: other)

    assert status["intact"] is False


def _asn1(certificate: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def test_the_signed_attributes_bind_the_tsa_certificate(pki: Pki) -> None:
    token = _answer(pki, _request())["time_stamp_token"]
    attributes = {
        attribute["type"].native: attribute["values"][0]
        for attribute in token["content"]["signer_infos"][0]["signed_attrs"]
    }

    assert attributes["content_type"].native == "tst_info"
    ess = attributes["signing_certificate_v2"]["certs"][0]
    tsa_der = pki.authority.certificate.public_bytes(Encoding.DER)
    assert ess["cert_hash"].native == hashlib.sha256(tsa_der).digest()
    assert ess["issuer_serial"]["serial_number"].native == pki.authority.certificate.serial_number


def test_the_nonce_is_echoed_and_absent_when_not_asked(pki: Pki) -> None:
    with_nonce = _tst_info(_answer(pki, _request(nonce=2**70 + 3)))
    without = _tst_info(_answer(pki, _request()))

    assert with_nonce["nonce"].native == 2**70 + 3
    assert without["nonce"].native is None


def test_certificates_are_included_only_when_asked(pki: Pki) -> None:
    asked = _answer(pki, _request(cert_req=True))["time_stamp_token"]["content"]
    not_asked = _answer(pki, _request(cert_req=False))["time_stamp_token"]["content"]

    names = {c.chosen.subject.native["common_name"] for c in asked["certificates"]}
    assert names == {"Test TSA", "Test Root CA"}
    assert not not_asked["certificates"].native


@pytest.mark.parametrize(("algorithm", "length"), [("sha384", 48), ("sha512", 64)])
def test_longer_sha2_digests_are_stamped(pki: Pki, algorithm: str, length: int) -> None:
    digest = bytes(range(length))
    imprint = {"hash_algorithm": {"algorithm": algorithm}, "hashed_message": digest}

    info = _tst_info(_answer(pki, _request(message_imprint=imprint))).native

    assert info["message_imprint"]["hashed_message"] == digest


def _tlv(tag: int, content: bytes) -> bytes:
    assert len(content) < 128
    return bytes([tag, len(content)]) + content


SHA256_OID = bytes.fromhex("0609608648016503040201")


def _request_with_hash_parameters(parameters: bytes) -> bytes:
    """A request written byte by byte: asn1crypto always writes NULL parameters for SHA-2."""
    imprint = _tlv(0x30, _tlv(0x30, SHA256_OID + parameters) + _tlv(0x04, DIGEST))
    return _tlv(0x30, _tlv(0x02, b"\x01") + imprint)


def test_a_sha256_without_null_parameters_is_stamped_too(pki: Pki) -> None:
    response = _answer(pki, _request_with_hash_parameters(b""))

    assert _tst_info(response)["message_imprint"]["hashed_message"].native == DIGEST


def test_sha256_parameters_other_than_null_are_bad_data_format(pki: Pki) -> None:
    _assert_refused(_answer(pki, _request_with_hash_parameters(b"\x04\x00")), "bad_data_format")


def test_our_own_policy_may_be_requested_by_name(pki: Pki) -> None:
    assert _tst_info(_answer(pki, _request(req_policy=POLICY)))["policy"].native == POLICY


# --- rejected ---------------------------------------------------------------------------------


def _imprint(algorithm: str, digest: bytes) -> dict[str, Any]:
    return {"hash_algorithm": {"algorithm": algorithm}, "hashed_message": digest}


@pytest.mark.parametrize(
    ("fields", "failure"),
    [
        ({"version": 2}, "bad_request"),
        ({"version": 0}, "bad_request"),
        ({"message_imprint": _imprint("sha1", bytes(20))}, "bad_alg"),
        ({"message_imprint": _imprint("md5", bytes(16))}, "bad_alg"),
        ({"message_imprint": _imprint("sha256", DIGEST[:31])}, "bad_data_format"),
        ({"message_imprint": _imprint("sha512", DIGEST)}, "bad_data_format"),
        ({"req_policy": OTHER_POLICY}, "unaccepted_policy"),
        (
            {"extensions": [{"extn_id": "1.2.3.4", "extn_value": b"\x05\x00"}]},
            "unaccepted_extensions",
        ),
    ],
)
def test_a_request_we_cannot_honour_is_rejected_with_the_failure_bit(
    pki: Pki, fields: dict[str, Any], failure: str
) -> None:
    _assert_refused(_answer(pki, _request(**fields)), failure)


def test_the_status_string_says_what_was_wrong(pki: Pki) -> None:
    response = _answer(pki, _request(req_policy=OTHER_POLICY))

    assert response["status"]["status_string"].native == [
        f"Policy {OTHER_POLICY} is not offered; this authority issues under {POLICY}."
    ]


VALID = _request()
WITHOUT_CERT_REQ = _request(cert_req=False)
NOT_DER = {  # the same request as the second item, in BER that DER forbids
    "explicit default": (
        b"\x30" + bytes([WITHOUT_CERT_REQ[1] + 3]) + WITHOUT_CERT_REQ[2:] + b"\x01\x01\x00",
        WITHOUT_CERT_REQ,
    ),
    "true as 01": (VALID[:-1] + b"\x01", VALID),
    "indefinite length": (b"\x30\x80" + VALID[2:] + b"\x00\x00", VALID),
}
_STATUS = bytes(tsp.PKIStatusInfo({"status": "granted"}).dump())
A_RESPONSE = b"\x30" + bytes([len(_STATUS)]) + _STATUS  # well-formed DER, the wrong structure


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not a timestamp request",
        VALID[:-5],
        VALID + b"\x00",
        b"\x30\x00",
        A_RESPONSE,
        *(ber for ber, _ in NOT_DER.values()),
    ],
    ids=["empty", "text", "truncated", "trailing", "empty sequence", "a response", *NOT_DER],
)
def test_bytes_that_are_not_a_der_request_get_bad_data_format(pki: Pki, body: bytes) -> None:
    _assert_refused(_answer(pki, body), "bad_data_format")


def test_openssl_reads_a_rejection_as_one(pki: Pki, tmp_path: Path) -> None:
    (tmp_path / "resp.der").write_bytes(answer(b"junk", pki.authority, datetime.now(UTC), 1))

    printed = _openssl(tmp_path, "ts", "-reply", "-in", "resp.der", "-text").stdout

    assert "Status: Rejected" in printed
    assert "Failure info: the data submitted has the wrong format" in printed
    assert "TST info:\nNot included." in printed


def test_the_ber_cases_are_the_same_request_in_another_encoding() -> None:
    for ber, der in NOT_DER.values():
        assert tsp.TimeStampReq.load(ber).native == tsp.TimeStampReq.load(der).native


def test_an_oversize_request_is_refused_before_it_is_read(pki: Pki) -> None:
    padding = {"extn_id": "1.2.3.4", "extn_value": bytes(MAX_REQUEST_BYTES)}
    response = _answer(pki, _request(extensions=[padding]))

    _assert_refused(response, "bad_data_format")
    assert "at most 65536" in response["status"]["status_string"].native[0]


@given(st.binary(max_size=300))
def test_arbitrary_bytes_always_get_a_response(pki: Pki, body: bytes) -> None:
    response = _answer(pki, body)

    assert response["status"]["status"].native in {"granted", "rejection"}


@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=4))
def test_a_request_with_bytes_changed_always_gets_a_response(
    pki: Pki, changes: list[tuple[int, int]]
) -> None:
    body = bytearray(VALID)
    for position, value in changes:
        body[position] = value

    assert _answer(pki, bytes(body))["status"]["status"].native in {"granted", "rejection"}


# --- the caller's mistakes and the authority's own failures -----------------------------------


def test_a_naive_time_or_a_non_positive_serial_is_a_programming_error(pki: Pki) -> None:
    with pytest.raises(ValueError, match="aware"):
        answer(VALID, pki.authority, datetime(2026, 1, 1), 1)
    with pytest.raises(ValueError, match="positive"):
        answer(VALID, pki.authority, datetime.now(UTC), 0)


def test_an_authority_needs_a_certificate_for_time_stamping_alone(pki: Pki) -> None:
    tsa_key = pki.authority.key
    issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    plain = _builder("Not a TSA", "Not a TSA", tsa_key.public_key())
    non_critical = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING])
    two_usages = x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING]
    )
    for builder in [
        plain,
        plain.add_extension(non_critical, critical=False),
        plain.add_extension(two_usages, critical=True),
    ]:
        certificate = builder.sign(issuer_key, hashes.SHA256())
        with pytest.raises(ValueError, match="timeStamping"):
            TimestampAuthority(certificate=certificate, chain=(), key=tsa_key)


def test_an_authority_needs_the_key_its_certificate_names(pki: Pki) -> None:
    other_key = SoftwareKeys(TEST_SECRET).generate("another key")

    with pytest.raises(ValueError, match="not the one"):
        replace(pki.authority, key=other_key)


@dataclass(frozen=True)
class UnpluggedToken:
    """A key whose token has gone away: signing fails as a PKCS#11 backend would."""

    real: SigningKey

    @property
    def handle(self) -> str:
        return self.real.handle

    def public_key(self) -> rsa.RSAPublicKey:
        return self.real.public_key()

    def sign(self, data: bytes) -> bytes:
        raise OSError("the token was removed")


def test_a_key_that_cannot_sign_gives_system_failure_not_an_exception(pki: Pki) -> None:
    broken = replace(pki.authority, key=UnpluggedToken(pki.authority.key))

    response = TimeStampResp.load(answer(VALID, broken, datetime.now(UTC), 1))

    _assert_refused(response, "system_failure")


# --- pyHanko, in-process ----------------------------------------------------------------------


async def test_the_platform_timestamper_returns_a_token_for_the_digest(pki: Pki) -> None:
    stamper = PlatformTimeStamper(pki.authority, serials=lambda: 31337)

    token = await stamper.async_timestamp(DIGEST, "sha256")

    info = token["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == DIGEST
    assert info["serial_number"].native == 31337
    assert info["nonce"].native is not None


async def test_the_serial_may_come_from_a_coroutine_and_the_time_from_a_clock(pki: Pki) -> None:
    async def next_serial() -> int:
        return 5

    moment = datetime(2030, 2, 3, 4, 5, 6, tzinfo=UTC)
    stamper = PlatformTimeStamper(pki.authority, serials=next_serial, clock=lambda: moment)

    info = (await stamper.async_timestamp(DIGEST, "sha256"))["content"]["encap_content_info"]
    assert info["content"].parsed["serial_number"].native == 5
    assert info["content"].parsed["gen_time"].native == moment


async def test_random_serials_differ(pki: Pki) -> None:
    stamper = PlatformTimeStamper(pki.authority)

    tokens = [await stamper.async_timestamp(DIGEST, "sha256") for _ in range(2)]

    serials = {
        t["content"]["encap_content_info"]["content"].parsed["serial_number"].native for t in tokens
    }
    assert len(serials) == 2
    assert all(0 < serial < 2**127 for serial in serials)


async def test_pyhanko_reports_a_rejection_as_a_timestamp_request_error(pki: Pki) -> None:
    stamper = PlatformTimeStamper(pki.authority)

    with pytest.raises(TimestampRequestError, match="bad_alg"):
        await stamper.async_timestamp(hashlib.sha1(b"x").digest(), "sha1")  # noqa: S324


async def test_pyhanko_learns_the_tsa_certificate_for_its_validation_paths(pki: Pki) -> None:
    stamper = PlatformTimeStamper(pki.authority)
    context = ValidationContext(trust_roots=[_asn1(pki.root)])

    paths = [path async for path in stamper.validation_paths(context)]

    assert [path.leaf.subject.native["common_name"] for path in paths] == ["Test TSA"]
