"""The platform's timestamp authority: RFC 3161 requests in, RFC 3161 responses out, as bytes.

``answer`` is the whole protocol and does no I/O, so the HTTP route (``application/timestamp-query``
in, ``application/timestamp-reply`` out) and the sealing code share one implementation:
``PlatformTimeStamper`` hands pyHanko's requests to ``answer`` in-process instead of over HTTP.

Whatever arrives, ``answer`` returns a TimeStampResp and never raises: a request that cannot be
honoured gets PKIStatus ``rejection`` with the PKIFailureInfo bit RFC 3161 §2.4.2 names for it and
a statusString in English (the protocol's audience is software and the people debugging it). Only
strict DER is accepted, so that the request we echo from is exactly the request that was sent.

A granted token is CMS SignedData over the DER TSTInfo, signed with sha256WithRSAEncryption by the
authority's ``SigningKey`` (so an HSM-held key works). Its signed attributes are content-type,
message-digest, signing-time and ESS signing-certificate-v2 (RFC 5816), which binds the token to
the TSA certificate. genTime has second precision, with an accuracy of one second to say so.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar

from asn1crypto import algos, cms, core, tsp  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.sign.timestamps.api import TimeStamper

from madoguchi.signatures.keys import SigningKey

logger = logging.getLogger(__name__)

POLICY = "2.25.81277022029632462658035948154399436386.10.1"
"""The platform TSA's policy: what a token issued under it promises (UTC from the host clock)."""

REQUEST_MEDIA_TYPE = "application/timestamp-query"
RESPONSE_MEDIA_TYPE = "application/timestamp-reply"
MAX_REQUEST_BYTES = 64 * 1024
"""A real request is about 60 bytes; the route caps bodies here too, this is the second fence."""

DIGEST_LENGTHS = {"sha256": 32, "sha384": 48, "sha512": 64}
"""Hash algorithms we timestamp (sha1 and md5 are no longer evidence) and their digest sizes."""

_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)


@dataclass(frozen=True)
class TimestampAuthority:
    """What the TSA signs with. ``certificate`` must carry the critical EKU id-kp-timeStamping."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    key: SigningKey
    policy: str = POLICY

    def __post_init__(self) -> None:
        """Refuse at once what would otherwise issue tokens no verifier accepts."""
        if not _is_time_stamping_only(self.certificate):
            raise ValueError("a TSA certificate needs the critical extended key usage timeStamping")
        if self.key.public_key().public_numbers() != _rsa_public_numbers(self.certificate):
            raise ValueError("the TSA key is not the one the TSA certificate names")


def _is_time_stamping_only(certificate: x509.Certificate) -> bool:
    """RFC 3161 §2.3: the EKU must be present, critical, and be timeStamping alone."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return False
    return extension.critical and list(extension.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


def _rsa_public_numbers(certificate: x509.Certificate) -> rsa.RSAPublicNumbers | None:
    public_key = certificate.public_key()
    return public_key.public_numbers() if isinstance(public_key, rsa.RSAPublicKey) else None


class TimeStampResp(core.Sequence):  # type: ignore[misc]
    """RFC 3161 §2.4.2 TimeStampResp, to write and read responses with.

    asn1crypto 1.5.1's ``tsp.TimeStampResp`` makes timeStampToken mandatory (wbond/asn1crypto#286),
    so it can neither write nor read a rejection, where RFC 3161 leaves the token out.
    """

    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class _Refused(Exception):
    """A request we answer with PKIStatus rejection; ``failure`` is a PKIFailureInfo bit name."""

    def __init__(self, failure: str, reason: str) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason


def answer(request_der: bytes, authority: TimestampAuthority, now: datetime, serial: int) -> bytes:
    """The DER TimeStampResp for ``request_der``: a token for ``serial`` at ``now``, or why not.

    Raises only for the caller's own mistakes (a naive ``now``, a serial that is not positive).
    """
    _check_arguments(now, serial)
    try:
        request = _read_request(request_der)
        policy = _accepted_policy(request, authority)
    except _Refused as refused:
        return _rejection(refused.failure, refused.reason)
    try:
        token = _token(request, policy, authority, now.astimezone(UTC), serial)
    except Exception:  # RFC 3161 answers systemFailure, whatever broke inside
        logger.exception("the timestamp authority could not sign a token")
        return _rejection("system_failure", "The timestamp authority could not sign a token.")
    return _granted(token)


def _check_arguments(now: datetime, serial: int) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime (UTC), not a naive one")
    if serial <= 0:
        raise ValueError(f"a timestamp serial number must be positive, not {serial}")


# --- reading the request ---------------------------------------------------------------------


def _read_request(der: bytes) -> Any:
    """The parsed TimeStampReq, or _Refused(badDataFormat) saying what is wrong with the bytes."""
    if not der:
        raise _Refused("bad_data_format", "The request is empty; send a DER TimeStampReq.")
    if len(der) > MAX_REQUEST_BYTES:
        raise _Refused(
            "bad_data_format",
            f"The request is {len(der)} bytes; at most {MAX_REQUEST_BYTES} are accepted.",
        )
    try:
        request = tsp.TimeStampReq.load(der, strict=True)
        _ = request.native  # parse every field now, so that a malformed one fails here
        reencoded = request.dump(force=True)
    except _PARSE_ERRORS as error:
        detail = " ".join(str(error).split())  # asn1crypto's messages run over several lines
        raise _Refused("bad_data_format", f"The request is not a TimeStampReq: {detail}.") from None
    if reencoded != der:
        raise _Refused("bad_data_format", "The request is a TimeStampReq but not in DER.")
    return request


def _accepted_policy(request: Any, authority: TimestampAuthority) -> str:
    """The policy to issue under, once the request has passed every check."""
    if int(request["version"]) != 1:
        raise _Refused("bad_request", f"Version {int(request['version'])} is not 1.")
    if request["extensions"].native is not None:
        raise _Refused("unaccepted_extensions", "This authority supports no request extensions.")
    _check_imprint(request["message_imprint"])
    asked = request["req_policy"].native
    if asked is not None and asked != authority.policy:
        raise _Refused(
            "unaccepted_policy",
            f"Policy {asked} is not offered; this authority issues under {authority.policy}.",
        )
    return authority.policy


def _check_imprint(imprint: Any) -> None:
    algorithm = imprint["hash_algorithm"]
    name = algorithm["algorithm"].native
    if name not in DIGEST_LENGTHS:
        offered = ", ".join(DIGEST_LENGTHS)
        raise _Refused("bad_alg", f"Hash algorithm {name} is not accepted; use one of {offered}.")
    length = len(imprint["hashed_message"].native)
    if length != DIGEST_LENGTHS[name]:
        raise _Refused(
            "bad_data_format",
            f"The {name} digest is {length} bytes long; it must be {DIGEST_LENGTHS[name]}.",
        )


# --- writing the response --------------------------------------------------------------------


def _rejection(failure: str, reason: str) -> bytes:
    status = {"status": "rejection", "status_string": [reason], "fail_info": {failure}}
    return bytes(TimeStampResp({"status": status}).dump())


def _granted(token: Any) -> bytes:
    return bytes(TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump())


def _token(
    request: Any, policy: str, authority: TimestampAuthority, now: datetime, serial: int
) -> Any:
    """The TimeStampToken: ContentInfo(SignedData(TSTInfo)) signed by the authority's key."""
    tsa = _asn1_certificate(authority.certificate)
    tst_der = bytes(_tst_info(request, policy, tsa, now, serial).dump())
    signed_attrs = cms.CMSAttributes.load(_signed_attributes(tst_der, tsa, now).dump())
    signature = authority.key.sign(signed_attrs.dump())
    signed_data = {
        "version": "v3",  # v3 because the content is not id-data (RFC 5652 §5.1)
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "tst_info", "content": tsp.TSTInfo.load(tst_der)},
        "signer_infos": [_signer_info(tsa, signed_attrs, signature)],
    }
    if request["cert_req"].native:
        signed_data["certificates"] = _certificates(tsa, authority.chain)
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})


def _tst_info(request: Any, policy: str, tsa: Any, now: datetime, serial: int) -> Any:
    info = {
        "version": "v1",
        "policy": policy,
        "message_imprint": request["message_imprint"].copy(),
        "serial_number": serial,
        "gen_time": now.replace(microsecond=0),
        "accuracy": {"seconds": 1},  # genTime drops the fraction of a second
        "tsa": asn1_x509.GeneralName(name="directory_name", value=tsa.subject),
    }
    if request["nonce"].native is not None:
        info["nonce"] = request["nonce"].native
    return tsp.TSTInfo(info)


def _signed_attributes(tst_der: bytes, tsa: Any, now: datetime) -> Any:
    return cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["tst_info"]},
            {"type": "message_digest", "values": [hashlib.sha256(tst_der).digest()]},
            {"type": "signing_time", "values": [_cms_time(now)]},
            {"type": "signing_certificate_v2", "values": [_signing_certificate_of(tsa.dump())]},
        ]
    )


def _cms_time(moment: datetime) -> Any:
    """UTCTime for 1950-2049, GeneralizedTime otherwise, as RFC 5652 §11.3 asks."""
    kind = "utc_time" if 1950 <= moment.year < 2050 else "generalized_time"
    return cms.Time(name=kind, value=moment.replace(microsecond=0))


def _signing_certificate_of(tsa_der: bytes) -> Any:
    """The attribute for the TSA certificate ``tsa_der``: building it costs milliseconds
    (asn1crypto parses the issuer's name), so it is built once per certificate and read back."""
    return tsp.SigningCertificateV2.load(_signing_certificate_der(tsa_der))


@lru_cache(maxsize=8)
def _signing_certificate_der(tsa_der: bytes) -> bytes:
    return bytes(_signing_certificate(asn1_x509.Certificate.load(tsa_der)).dump())


def _signing_certificate(tsa: Any) -> Any:
    """ESS signing-certificate-v2 naming the TSA certificate by SHA-256 hash and issuer/serial."""
    issuer = asn1_x509.GeneralName(name="directory_name", value=tsa.issuer)
    cert_id = {
        "cert_hash": hashlib.sha256(tsa.dump()).digest(),  # hash_algorithm: sha256 by default
        "issuer_serial": {"issuer": [issuer], "serial_number": tsa.serial_number},
    }
    return tsp.SigningCertificateV2({"certs": [cert_id]})


def _signer_info(tsa: Any, signed_attrs: Any, signature: bytes) -> Any:
    sid = cms.IssuerAndSerialNumber({"issuer": tsa.issuer, "serial_number": tsa.serial_number})
    return cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(name="issuer_and_serial_number", value=sid),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": "sha256_rsa"},
            "signature": signature,
        }
    )


def _certificates(tsa: Any, chain: tuple[x509.Certificate, ...]) -> list[Any]:
    issuers = [_asn1_certificate(certificate) for certificate in chain]
    return [cms.CertificateChoices(name="certificate", value=cert) for cert in [tsa, *issuers]]


def _asn1_certificate(certificate: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(_der(certificate))


@lru_cache(maxsize=8)
def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.DER)


# --- pyHanko, in-process ---------------------------------------------------------------------

SerialSource = Callable[[], int | Awaitable[int]]
"""Gives the next token serial number; may be a coroutine function (a database sequence)."""


def random_serial() -> int:
    """A random positive 127-bit serial: unique without any shared state (RFC 3161 wants each
    serial once; at a national scale 64 bits would meet the birthday bound within years), and
    within the 20 octets RFC 5280 allows a serial."""
    return 1 + secrets.randbelow(2**127 - 1)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PlatformTimeStamper(TimeStamper):
    """A pyHanko TimeStamper that asks the platform TSA directly, with no HTTP round trip.

    pyHanko still builds the request (with a nonce) and checks the response (status, nonce), so
    sealing goes through the same protocol as any outside client of the TSA route.
    """

    def __init__(
        self,
        authority: TimestampAuthority,
        serials: SerialSource = random_serial,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self._authority = authority
        self._serials = serials
        self._clock = clock

    async def async_request_tsa_response(self, req: Any) -> Any:
        response = answer(req.dump(), self._authority, self._clock(), await self._next_serial())
        return TimeStampResp.load(response)

    async def _next_serial(self) -> int:
        serial = self._serials()
        if isinstance(serial, int):
            return serial
        return await serial
