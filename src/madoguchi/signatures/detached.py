"""How a resident's signature is made and checked (what is signed: ``signatures.payload``).

**The format** is CAdES-BES, detached: a DER CMS SignedData (RFC 5652) without the content,
SHA-256 with RSA PKCS#1 v1.5, signed attributes content-type, message-digest, signing-time and
ESS signing-certificate-v2, carrying the signer's certificate and its chain. JPKI's signature
certificate is made for exactly this (PKCS#7/CMS), and any CMS tool (``openssl cms -verify``)
can check it. ``SIGNATURE_FORMAT`` is the name stored beside each signature.

**Checking** is pyHanko's CMS validation with a point-in-time certificate check at the signing
time: the certificate and its chain must have been within their validity and unrevoked then,
per the CRLs given (no fetching). A CRL issued after the signing time still speaks about it
(revocation entries carry their own dates), so later CRLs are accepted for earlier moments. The
signing time is only what the signature states (there is no timestamp token), so it must lie
near the time the platform received the signature (``received_at``, from its own records):
otherwise a stolen key, revoked since, could sign "before" its revocation. A revocation after
the signing time leaves the signature valid and is reported in ``revoked_since``.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from asn1crypto import cms  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.utils import CryptographyDeprecationWarning
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation.generic_cms import (
    async_validate_detached_cms,
    extract_self_reported_ts,
    get_signing_cert_attr,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from madoguchi.core.i18n import N_, _
from madoguchi.signatures.key_signer import DIGEST, KeySigner, to_asn1
from madoguchi.signatures.keys import SigningKey

SIGNATURE_FORMAT = "cades-bes-detached"
CLOCK_SKEW = dt.timedelta(minutes=5)  # a signing time this far ahead is still believed
SIGNING_DELAY = dt.timedelta(minutes=30)  # from the card's signing page to the submission
_T = TypeVar("_T")

# The resident's certificate must be checked against a CRL; an issuing authority is checked when
# its certificate names where its issuer publishes one (the platform's do).
REVOCATION_POLICY = CertRevTrustPolicy(
    RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CRL_REQUIRED,
        intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
    ),
    retroactive_revinfo=True,
)

NOT_CMS = N_("not a CMS signature")
NOT_DETACHED = N_("the signature carries its own content; a detached signature was expected")
SIGNER_COUNT = N_("the signature must have exactly one signer")
NO_SIGNER_CERTIFICATE = N_("the signer's certificate is not included in the signature")
NO_SIGNING_TIME = N_("the signature does not say when it was made (no signing-time attribute)")
NO_CERTIFICATE_REFERENCE = N_(
    "the signature does not name its certificate (no signing-certificate-v2 attribute)"
)
IN_THE_FUTURE = N_("the signature claims to be made in the future, at {time}")
LONG_BEFORE_RECEIPT = N_(
    "the signature claims to be made at {time}, long before it was received at {received}"
)
MALFORMED = N_("the signature is not valid: {detail}")
CHANGED = N_("the signed data was changed")
BAD_SIGNATURE = N_("the signature does not verify with the signer's certificate")
UNTRUSTED = N_("the certificate was not issued by a trusted authority")
EXPIRED = N_("the certificate had expired on {date}")
NOT_YET_VALID = N_("the certificate was not yet valid; it is valid from {date}")
REVOKED = N_("the certificate was revoked on {date}")
AUTHORITY_REVOKED = N_("the authority that issued the certificate was revoked on {date}")
NOT_FOR_SIGNING = N_("the certificate may not be used for signatures")
WEAK_ALGORITHM = N_("the signature uses an algorithm that is no longer considered safe")
STALE_CRL = N_("the revocation list is too old to show the certificate's status at {time}")
NO_CRL = N_("the certificate's revocation status could not be checked: no revocation list")
CHAIN_FAILED = N_("the certificate chain could not be validated")
BAD_TIMESTAMP = N_("the signature's timestamp is not valid")


# --- signing --------------------------------------------------------------------------------


async def sign_detached(
    payload: bytes,
    key: SigningKey,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    *,
    signing_time: dt.datetime | None = None,
) -> bytes:
    """A CAdES-BES detached signature of ``payload``, DER: signed attributes content-type,
    message-digest, signing-time (now, unless given) and ESS signing-certificate-v2."""
    signer = KeySigner(key, certificate, chain)
    moment = _aware(signing_time, "signing_time") or dt.datetime.now(dt.UTC)
    signed = await signer.async_sign_general_data(
        payload,
        DIGEST,
        detached=True,
        use_cades=True,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=moment),
    )
    return bytes(signed.dump())


# --- checking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DetachedVerdict:
    """Whether a detached signature is good, and if not why not, in English, for people."""

    valid: bool
    reason: str
    signer: x509.Certificate | None
    signed_at: dt.datetime | None  # the signing-time attribute, aware UTC
    revoked_since: dt.datetime | None = None  # set even when valid: revoked after signing
    reason_template: str = ""  # the N_ message id behind ``reason``
    reason_params: tuple[tuple[str, str], ...] = ()

    def reason_in_current_language(self) -> str:
        if not self.reason_template:
            return self.reason
        return _(self.reason_template, **dict(self.reason_params))


class _Invalid(Exception):
    """One check failed; carries the reason until it becomes a verdict."""

    def __init__(self, template: str, **params: str) -> None:
        super().__init__(template.format(**params))
        self.template = template
        self.params = params

    def verdict(
        self,
        signer: x509.Certificate | None = None,
        signed_at: dt.datetime | None = None,
        revoked_since: dt.datetime | None = None,
    ) -> DetachedVerdict:
        return DetachedVerdict(
            valid=False,
            reason=str(self),
            signer=signer,
            signed_at=signed_at,
            revoked_since=revoked_since,
            reason_template=self.template,
            reason_params=tuple(self.params.items()),
        )


async def verify_detached(
    payload: bytes,
    signature_der: bytes,
    *,
    trust_roots: Sequence[x509.Certificate],
    crls: Sequence[bytes],
    moment: dt.datetime | None = None,
    received_at: dt.datetime | None = None,
) -> DetachedVerdict:
    """Whether ``signature_der`` is a good signature of ``payload``.

    The certificate is judged at ``moment``, or at the signature's own signing time when None.
    That time is only the signer's word, so give ``received_at`` (when the platform received the
    signature, from its own records) and a signing time far from it is refused: a stolen key
    cannot then sign "before" its revocation. Without it, only a time in the future is refused.
    Never raises on bad signature bytes; raises ValueError for a CRL that is not DER.
    """
    revocation_lists = [_load_crl(index, der) for index, der in enumerate(crls)]
    anchor = _aware(received_at, "received_at") or dt.datetime.now(dt.UTC)
    try:
        signed_data = _read_signed_data(signature_der)
    except _Invalid as invalid:
        return invalid.verdict()
    signer, signed_at = _signer_certificate(signed_data), _signing_time(signed_data)
    embedded = _embedded_certificates(signed_data)
    revoked_since = _revoked_since(signer, [*trust_roots, *embedded], revocation_lists)
    try:
        _check_claims(signed_data, signer, signed_at)
        _check_signing_time(_present(signed_at), anchor, bounded=received_at is not None)
        when = _aware(moment, "moment") or _present(signed_at)
        status = await _pyhanko_status(payload, signed_data, trust_roots, crls, when)
        _check_status(status, _present(signer), when, _Revocation(embedded, revocation_lists))
    except _Invalid as invalid:
        return invalid.verdict(signer, signed_at, revoked_since)
    return DetachedVerdict(True, "", signer, signed_at, revoked_since)


def _load_crl(index: int, der: bytes) -> x509.CertificateRevocationList:
    try:
        return x509.load_der_x509_crl(der)
    except ValueError as error:
        raise ValueError(f"crls[{index}] is not a DER certificate revocation list") from error


def _read_signed_data(signature_der: bytes) -> Any:
    try:
        content_info = cms.ContentInfo.load(signature_der, strict=True)
        content_info.native  # noqa: B018  # asn1crypto parses lazily: read it all now
        is_signed_data = content_info["content_type"].native == "signed_data"
    except Exception:  # noqa: BLE001  # asn1crypto reports bad bytes through many exception types
        raise _Invalid(NOT_CMS) from None
    if not is_signed_data:
        raise _Invalid(NOT_CMS)
    signed_data = content_info["content"]
    if len(signed_data["signer_infos"]) != 1:
        raise _Invalid(SIGNER_COUNT)
    if signed_data["encap_content_info"]["content"].native is not None:
        raise _Invalid(NOT_DETACHED)
    return signed_data


def _signer_certificate(signed_data: Any) -> x509.Certificate | None:
    try:
        embedded = extract_certificate_info(signed_data).signer_cert
    except ValueError:  # pyHanko's CMSExtractionError: no certificate matches the signer
        return None
    return _certificate(embedded.dump())


def _certificate(der: bytes) -> x509.Certificate | None:
    """The certificate, or None when it breaks RFC 5280 so badly cryptography only warns."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CryptographyDeprecationWarning)
        try:
            return x509.load_der_x509_certificate(der)
        except (ValueError, CryptographyDeprecationWarning):
            return None


def _signing_time(signed_data: Any) -> dt.datetime | None:
    stated = extract_self_reported_ts(signed_data["signer_infos"][0])
    if not isinstance(stated, dt.datetime) or stated.utcoffset() is None:
        return None
    return stated.astimezone(dt.UTC)


def _present(value: _T | None) -> _T:
    assert value is not None, "checked by _check_claims"  # noqa: S101
    return value


def _aware(moment: dt.datetime | None, name: str) -> dt.datetime | None:
    if moment is not None and moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return None if moment is None else moment.astimezone(dt.UTC)


def _check_claims(
    signed_data: Any, signer: x509.Certificate | None, signed_at: dt.datetime | None
) -> None:
    """The signature states all CAdES-BES needs: its certificate, its time, the reference."""
    if signer is None:
        raise _Invalid(NO_SIGNER_CERTIFICATE)
    if signed_at is None:
        raise _Invalid(NO_SIGNING_TIME)
    try:
        reference = get_signing_cert_attr(signed_data["signer_infos"][0]["signed_attrs"])
    except ValueError as error:  # two signing-certificate attributes
        raise _Invalid(MALFORMED, detail=str(error)) from None
    if reference is None:
        raise _Invalid(NO_CERTIFICATE_REFERENCE)


def _check_signing_time(signed_at: dt.datetime, anchor: dt.datetime, *, bounded: bool) -> None:
    if signed_at > anchor + CLOCK_SKEW:
        raise _Invalid(IN_THE_FUTURE, time=_show(signed_at))
    if bounded and signed_at < anchor - SIGNING_DELAY:
        raise _Invalid(LONG_BEFORE_RECEIPT, time=_show(signed_at), received=_show(anchor))


async def _pyhanko_status(
    payload: bytes,
    signed_data: Any,
    trust_roots: Sequence[x509.Certificate],
    crls: Sequence[bytes],
    when: dt.datetime,
) -> Any:
    context = ValidationContext(
        trust_roots=[to_asn1(root) for root in trust_roots],
        crls=list(crls),
        allow_fetching=False,
        revinfo_policy=REVOCATION_POLICY,
        moment=when,
    )
    try:
        return await async_validate_detached_cms(
            payload, signed_data, signer_validation_context=context
        )
    # pyHanko raises whatever its parsers meet in damaged input (its own ValueErrors, but also
    # e.g. AttributeError for an unknown digest algorithm): all mean the same to a resident.
    except Exception as error:  # noqa: BLE001
        raise _Invalid(MALFORMED, detail=getattr(error, "failure_message", str(error))) from None


@dataclass(frozen=True)
class _Revocation:
    """What a missing-CRL diagnosis needs: the certificates at hand and the CRLs given."""

    certificates: Sequence[x509.Certificate]  # embedded in the signature
    lists: Sequence[x509.CertificateRevocationList]

    def missing_for(self, signer: x509.Certificate) -> bool:
        """Whether the signer, or an authority naming a CRL, has no CRL from its issuer."""
        issuers = {crl.issuer for crl in self.lists}
        declaring = [cert for cert in self.certificates if _names_crl(cert)]
        return any(cert.issuer not in issuers for cert in [signer, *declaring])


def _names_crl(certificate: x509.Certificate) -> bool:
    try:
        certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    except (x509.ExtensionNotFound, ValueError):  # ValueError: extensions that cannot be read
        return False
    return True


def _check_status(
    status: Any, signer: x509.Certificate, when: dt.datetime, revocation: _Revocation
) -> None:
    if not status.intact:
        raise _Invalid(CHANGED)
    if not status.valid:
        raise _Invalid(BAD_SIGNATURE)
    problem = status.trust_problem_indic
    if problem is not None or status.validation_path is None:
        raise _trust_failure(problem, status, signer, when, revocation)
    if not status.bottom_line:  # an unsigned timestamp attribute someone added, and bad
        raise _Invalid(BAD_TIMESTAMP)


def _trust_failure(
    problem: Any,
    status: Any,
    signer: x509.Certificate,
    when: dt.datetime,
    revocation: _Revocation,
) -> _Invalid:
    """The plain reason behind pyHanko's AdES indication."""
    if problem == AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND:
        return _Invalid(UNTRUSTED)
    if when > signer.not_valid_after_utc:
        return _Invalid(EXPIRED, date=_show(signer.not_valid_after_utc))
    if when < signer.not_valid_before_utc:
        return _Invalid(NOT_YET_VALID, date=_show(signer.not_valid_before_utc))
    details = status.revocation_details
    if details is not None:
        revoked = AUTHORITY_REVOKED if details.ca_revoked else REVOKED
        return _Invalid(revoked, date=_show(details.revocation_date))
    return _Invalid(_other_problem(problem, signer, revocation), time=_show(when))


def _other_problem(problem: Any, signer: x509.Certificate, revocation: _Revocation) -> str:
    if problem == AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE:
        return NOT_FOR_SIGNING
    if problem in (
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    ):
        return WEAK_ALGORITHM
    if problem == AdESIndeterminate.TRY_LATER:
        return STALE_CRL
    if revocation.missing_for(signer):
        return NO_CRL
    return CHAIN_FAILED


def _revoked_since(
    signer: x509.Certificate | None,
    candidates: Sequence[x509.Certificate],
    revocation_lists: Sequence[x509.CertificateRevocationList],
) -> dt.datetime | None:
    """When a CRL from the signer's own issuer (its signature checked) says it was revoked."""
    issuer = _issuer_of(signer, candidates)
    if signer is None or issuer is None:
        return None
    key = issuer.public_key()
    dates = [
        entry.revocation_date_utc
        for crl in revocation_lists
        if crl.issuer == issuer.subject and crl.is_signature_valid(key)  # type: ignore[arg-type]
        if (entry := crl.get_revoked_certificate_by_serial_number(signer.serial_number))
    ]
    return min(dates, default=None)


def _issuer_of(
    signer: x509.Certificate | None, candidates: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    for candidate in candidates:
        if signer is None or candidate.subject != signer.issuer:
            continue
        try:
            signer.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue  # not its issuer, or a certificate (maybe damaged) it cannot be checked with
        return candidate
    return None


def _embedded_certificates(signed_data: Any) -> list[x509.Certificate]:
    choices = signed_data["certificates"] or ()
    found = [_certificate(c.chosen.dump()) for c in choices if c.name == "certificate"]
    return [certificate for certificate in found if certificate is not None]


def _show(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
