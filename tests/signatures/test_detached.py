"""Resident signatures: the canonical payload, CAdES-BES detached signing, and its checking.

Each test builds its own small PKI with ``cryptography`` (a root, an issuing authority whose CRL
the root publishes, a resident's certificate for a platform ``SoftwareKeys`` key) and its CRLs,
so every case a checker must refuse is made for real; ``openssl cms`` checks independently.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pyhanko.sign.attributes import as_signing_certificate_v2
from pyhanko.sign.general import SigningError, simple_cms_attribute

from madoguchi.core.errors import InvalidInput
from madoguchi.core.i18n import set_language
from madoguchi.signatures import detached
from madoguchi.signatures.detached import DetachedVerdict, sign_detached
from madoguchi.signatures.key_signer import KeySigner
from madoguchi.signatures.keys import SigningKey
from madoguchi.signatures.keys.software import SoftwareKeys
from madoguchi.signatures.payload import signing_payload

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY, HOUR, MINUTE = dt.timedelta(days=1), dt.timedelta(hours=1), dt.timedelta(minutes=1)
SECRET = "test-secret-key-that-is-long-enough-for-production"
ROOT_CRL_URL, ISSUER_CRL_URL = "http://pki.test/root.crl", "http://pki.test/residents.crl"
PAYLOAD = signing_payload(
    tenant_code="131016", procedure_id="subsidy", procedure_version=2, answers={"name": "山田"}
)


# --- a small PKI ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Authority:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    def crl(self, revoked: dict[int, dt.datetime] | None = None, *, at: dt.datetime = NOW) -> bytes:
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(at)
            .next_update(at + DAY)
            .add_extension(x509.CRLNumber(1), critical=False)
        )
        for serial, when in (revoked or {}).items():
            entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
            builder = builder.add_revoked_certificate(entry.build())
        crl = builder.sign(self.key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.DER)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(*, authority: bool, signing: bool = True) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing and not authority,
        content_commitment=signing and not authority,
        key_encipherment=not signing,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=authority,
        crl_sign=authority,
        encipher_only=False,
        decipher_only=False,
    )


def _certificate(
    subject: str,
    public_key: rsa.RSAPublicKey,
    issuer: Authority | None,
    private_key: rsa.RSAPrivateKey,
    *,
    authority: bool,
    crl_url: str | None = None,
    valid: tuple[dt.datetime, dt.datetime] = (NOW - 10 * DAY, NOW + 365 * DAY),
    signing: bool = True,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.certificate.subject if issuer else _name(subject))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=authority, path_length=None), critical=True)
        .add_extension(_usage(authority=authority, signing=signing), critical=True)
    )
    if crl_url:
        uri = [x509.UniformResourceIdentifier(crl_url)]
        point = x509.DistributionPoint(
            full_name=uri, relative_name=None, reasons=None, crl_issuer=None
        )
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return builder.sign(private_key, hashes.SHA256())


def _authority(subject: str, parent: Authority | None = None) -> Authority:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signing_key = parent.key if parent else key
    crl_url = ROOT_CRL_URL if parent else None
    cert = _certificate(
        subject, key.public_key(), parent, signing_key, authority=True, crl_url=crl_url
    )
    return Authority(cert, key)


@dataclass(frozen=True)
class Pki:
    root: Authority
    residents: Authority  # the issuing authority for residents' card certificates
    key: SigningKey  # a resident's card key

    def resident(self, **options: object) -> x509.Certificate:
        return _certificate(
            "山田 太郎",
            self.key.public_key(),
            self.residents,
            self.residents.key,
            authority=False,
            crl_url=ISSUER_CRL_URL,
            **options,  # type: ignore[arg-type]
        )

    def crls(self, revoked: dict[int, dt.datetime] | None = None) -> list[bytes]:
        return [self.root.crl(), self.residents.crl(revoked)]

    async def verify(
        self,
        signature: bytes,
        payload: bytes = PAYLOAD,
        crls: list[bytes] | None = None,
        moment: dt.datetime | None = None,
        received_at: dt.datetime | None = None,
    ) -> DetachedVerdict:
        return await detached.verify_detached(
            payload,
            signature,
            trust_roots=[self.root.certificate],
            crls=self.crls() if crls is None else crls,
            moment=moment,
            received_at=received_at,
        )


def _pki(name: str) -> Pki:
    root = _authority(f"{name} Root CA")
    residents = _authority(f"{name} Residents Signature CA", root)
    return Pki(root, residents, SoftwareKeys(SECRET).generate("resident card"))


@pytest.fixture(scope="module")
def pki() -> Pki:
    return _pki("madoguchi test")


@pytest.fixture(scope="module")
def resident(pki: Pki) -> x509.Certificate:
    return pki.resident()


async def _sign(pki: Pki, cert: x509.Certificate, **options: dt.datetime) -> bytes:
    return await sign_detached(PAYLOAD, pki.key, cert, [pki.residents.certificate], **options)


def _utc(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _refused(verdict: DetachedVerdict, reason: str) -> None:
    assert not verdict.valid
    assert verdict.reason == reason


# --- what is signed -------------------------------------------------------------------------


def _payload(answers: dict[str, object]) -> bytes:
    return signing_payload(
        tenant_code="131016", procedure_id="subsidy", procedure_version=2, answers=answers
    )


def test_the_payload_is_the_canonical_json_of_answers_procedure_and_tenant() -> None:
    payload = _payload({"name": "山田", "children": 2, "agreed": True, "note": None})
    assert payload == (
        b'{"answers":{"agreed":true,"children":2,"name":"\xe5\xb1\xb1\xe7\x94\xb0","note":null},'
        b'"format":"madoguchi-signed-answers/1","procedure":"subsidy","tenant":"131016",'
        b'"version":2}'
    )


def test_the_payload_does_not_depend_on_the_order_answers_were_given_in() -> None:
    one = _payload({"b": {"y": 1, "x": [1, "2"]}, "a": "first"})
    other = _payload({"a": "first", "b": {"x": [1, "2"], "y": 1}})
    assert one == other


def test_keys_are_ordered_by_utf16_code_units_as_rfc_8785_says() -> None:
    # By code point "😀" (U+1F600) would sort after "ｱ" (U+FF71); in UTF-16 it is D83D, before FF71.
    payload = _payload({"ｱ": 5, "日本": 3, "😀": 4, "é": 2, "a": 1})
    answers = payload[payload.index(b"{", 1) : payload.index(b"}") + 1].decode()
    assert answers == '{"a":1,"é":2,"日本":3,"😀":4,"ｱ":5}'


def test_text_is_signed_as_utf8_with_only_the_escapes_rfc_8785_requires() -> None:
    payload = _payload({"note": 'é "quoted"\n\u0001'})
    assert '"note":"é \\"quoted\\"\\n\\u0001"'.encode() in payload


@pytest.mark.parametrize(
    ("answers", "field", "words"),
    [
        ({"income": {"amount": 1.5}}, "answers.income.amount", "decimal number"),
        ({"income": 2**53}, "answers.income", "too large"),
        ({"list": [1, -(2**60)]}, "answers.list[1]", "too large"),
        ({"name": "e\u0301"}, "answers.name", "NFC"),  # é written as e + combining accent
        ({"e\u0301": "x"}, "answers (a key)", "NFC"),
        ({"name": "\ud800"}, "answers.name", "lone surrogate"),
        ({"born": dt.date(1990, 1, 1)}, "answers.born", "a date, which JSON cannot hold"),
        ({1: "x"}, "answers", "key that is not text"),
    ],
)
def test_answers_that_cannot_be_signed_exactly_are_refused_saying_where(
    answers: dict[object, object], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput, match=words) as refused:
        _payload(answers)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert field in str(refused.value)


def test_answers_must_be_a_json_object() -> None:
    with pytest.raises(InvalidInput, match="answers must be a JSON object"):
        _payload(["not", "an", "object"])  # type: ignore[arg-type]


def test_a_procedure_version_must_be_a_whole_number() -> None:
    with pytest.raises(InvalidInput, match="whole number"):
        signing_payload(tenant_code="131016", procedure_id="p", procedure_version=True, answers={})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(answers=st.dictionaries(st.text(), JSON, max_size=6))
def test_any_json_answers_read_back_from_the_payload_unchanged(answers: dict[str, object]) -> None:
    try:
        payload = _payload(answers)
    except InvalidInput:  # text that is not NFC, or a lone surrogate: refused, by design
        return
    assert json.loads(payload)["answers"] == answers
    assert _payload(dict(reversed(list(answers.items())))) == payload


# --- signing --------------------------------------------------------------------------------


async def test_a_signature_is_cades_bes_detached_with_the_signer_and_chain(
    pki: Pki, resident: x509.Certificate
) -> None:
    signed_data = cms.ContentInfo.load(await _sign(pki, resident))["content"]
    assert signed_data["encap_content_info"]["content"].native is None
    (signer_info,) = signed_data["signer_infos"]
    attributes = {attribute["type"].native for attribute in signer_info["signed_attrs"]}
    assert attributes >= {
        "content_type",
        "message_digest",
        "signing_time",
        "signing_certificate_v2",
    }
    assert signer_info["digest_algorithm"]["algorithm"].native == "sha256"
    assert signer_info["signature_algorithm"]["algorithm"].native == "sha256_rsa"
    embedded = {c.chosen.dump() for c in signed_data["certificates"]}
    der = serialization.Encoding.DER
    assert embedded == {resident.public_bytes(der), pki.residents.certificate.public_bytes(der)}


async def test_openssl_accepts_the_signature_and_refuses_changed_data(
    pki: Pki, resident: x509.Certificate, tmp_path: Path
) -> None:
    (tmp_path / "sig.der").write_bytes(await _sign(pki, resident))
    (tmp_path / "payload.json").write_bytes(PAYLOAD)
    (tmp_path / "changed.json").write_bytes(PAYLOAD.replace(b"2", b"3"))
    pem = serialization.Encoding.PEM
    (tmp_path / "root.pem").write_bytes(pki.root.certificate.public_bytes(pem))
    (tmp_path / "chain.pem").write_bytes(pki.residents.certificate.public_bytes(pem))

    def openssl_verify(content: str) -> subprocess.CompletedProcess[bytes]:
        command = "openssl cms -verify -binary -inform DER -in sig.der -out /dev/null"
        options = "-CAfile root.pem -certfile chain.pem -purpose any"
        args = [*command.split(), "-content", content, *options.split()]
        return subprocess.run(args, cwd=tmp_path, capture_output=True, check=False)

    accepted = openssl_verify("payload.json")
    assert accepted.returncode == 0, accepted.stderr
    assert b"Verification successful" in accepted.stderr
    assert openssl_verify("changed.json").returncode != 0


async def test_a_signer_refuses_a_certificate_for_another_key(pki: Pki) -> None:
    other = SoftwareKeys(SECRET).generate("another card")
    with pytest.raises(ValueError, match="not for its key"):
        KeySigner(other, pki.resident(), [])


async def test_a_signer_signs_sha256_only_and_sizes_without_the_key(
    pki: Pki, resident: x509.Certificate
) -> None:
    signer = KeySigner(pki.key, resident, [])
    with pytest.raises(SigningError, match="SHA-256 only"):
        await signer.async_sign_raw(b"data", "sha512")
    assert await signer.async_sign_raw(b"data", "sha256", dry_run=True) == bytes(256)


async def _sign_with_attributes(
    pki: Pki, resident: x509.Certificate, *, certificate_references: int
) -> bytes:
    """A detached signature whose signed attributes we choose, to test what they must hold."""
    signer = KeySigner(pki.key, resident, [pki.residents.certificate])
    digest = hashlib.sha256(PAYLOAD).digest()
    reference = as_signing_certificate_v2(signer.signing_cert)
    attributes = [
        simple_cms_attribute("content_type", "data"),
        simple_cms_attribute("message_digest", digest),
        simple_cms_attribute("signing_time", cms.Time({"utc_time": NOW})),
    ]
    if certificate_references:
        values = [reference] * certificate_references
        attributes.append(cms.CMSAttribute({"type": "signing_certificate_v2", "values": values}))
    signed = await signer.async_sign_prescribed_attributes("sha256", cms.CMSAttributes(attributes))
    return bytes(signed.dump())


# --- checking -------------------------------------------------------------------------------


async def test_a_good_signature_is_valid_and_says_who_and_when(
    pki: Pki, resident: x509.Certificate
) -> None:
    verdict = await pki.verify(await _sign(pki, resident))
    assert verdict.valid, verdict.reason
    assert verdict.reason == ""
    assert verdict.signer == resident
    assert verdict.signed_at is not None
    assert abs(verdict.signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert verdict.signed_at.tzinfo == dt.UTC
    assert verdict.revoked_since is None


async def test_data_changed_by_one_byte_is_not_valid(pki: Pki, resident: x509.Certificate) -> None:
    changed = PAYLOAD.replace(b"subsidy", b"subsidz")
    _refused(await pki.verify(await _sign(pki, resident), changed), "the signed data was changed")


async def test_a_changed_signature_value_is_not_valid(pki: Pki, resident: x509.Certificate) -> None:
    signature = await _sign(pki, resident)
    value = cms.ContentInfo.load(signature)["content"]["signer_infos"][0]["signature"].native
    at = signature.index(value) + 100
    changed = signature[:at] + bytes([signature[at] ^ 1]) + signature[at + 1 :]
    verdict = await pki.verify(changed)
    _refused(verdict, "the signature does not verify with the signer's certificate")
    assert verdict.signer == resident


async def test_a_changed_signing_time_is_not_valid(pki: Pki, resident: x509.Certificate) -> None:
    when = NOW - HOUR
    signature = await _sign(pki, resident, signing_time=when)
    stated = when.strftime("%y%m%d%H%M%SZ").encode()
    earlier = (when - DAY).strftime("%y%m%d%H%M%SZ").encode()
    verdict = await pki.verify(signature.replace(stated, earlier))
    _refused(verdict, "the signature does not verify with the signer's certificate")


@pytest.mark.parametrize(
    "signature",
    [
        b"",
        b"not a signature at all",
        bytes(range(256)),
        cms.ContentInfo({"content_type": "data", "content": b"hello"}).dump(),
        b"\x30\x80" + b"\x00" * 10,  # an indefinite length that never ends
    ],
    ids=["empty", "text", "garbage", "pkcs7-data", "broken-der"],
)
async def test_bytes_that_are_not_a_signed_data_are_not_valid(pki: Pki, signature: bytes) -> None:
    verdict = await pki.verify(signature)
    _refused(verdict, "not a CMS signature")
    assert verdict.signer is None
    assert verdict.signed_at is None


async def test_a_certificate_is_not_a_signature(pki: Pki, resident: x509.Certificate) -> None:
    _refused(
        await pki.verify(resident.public_bytes(serialization.Encoding.DER)), "not a CMS signature"
    )


async def test_a_signature_carrying_its_content_is_not_a_detached_one(
    pki: Pki, resident: x509.Certificate
) -> None:
    signer = KeySigner(pki.key, resident, [pki.residents.certificate])
    attached = await signer.async_sign_general_data(
        PAYLOAD, "sha256", detached=False, use_cades=True
    )
    verdict = await pki.verify(attached.dump())
    _refused(verdict, "the signature carries its own content; a detached signature was expected")


async def test_a_signature_without_a_signing_time_is_not_valid(
    pki: Pki, resident: x509.Certificate
) -> None:
    signer = KeySigner(pki.key, resident, [pki.residents.certificate])
    plain_cms = await signer.async_sign_general_data(PAYLOAD, "sha256", detached=True)
    verdict = await pki.verify(plain_cms.dump())
    _refused(verdict, "the signature does not say when it was made (no signing-time attribute)")


async def test_a_signature_must_name_its_certificate(pki: Pki, resident: x509.Certificate) -> None:
    unnamed = await _sign_with_attributes(pki, resident, certificate_references=0)
    reason = "the signature does not name its certificate (no signing-certificate-v2 attribute)"
    _refused(await pki.verify(unnamed), reason)
    named = await _sign_with_attributes(pki, resident, certificate_references=1)
    assert (await pki.verify(named)).valid
    twice = await pki.verify(await _sign_with_attributes(pki, resident, certificate_references=2))
    assert not twice.valid
    assert twice.reason.startswith("the signature is not valid: ")


async def test_a_signature_with_two_signers_is_not_valid(
    pki: Pki, resident: x509.Certificate
) -> None:
    content_info = cms.ContentInfo.load(await _sign(pki, resident))
    signed_data = content_info["content"]
    (signer_info,) = signed_data["signer_infos"]
    signed_data["signer_infos"] = [signer_info, signer_info]
    verdict = await pki.verify(content_info.dump(force=True))
    _refused(verdict, "the signature must have exactly one signer")


async def test_a_signing_time_in_the_future_is_not_believed(
    pki: Pki, resident: x509.Certificate
) -> None:
    verdict = await pki.verify(await _sign(pki, resident, signing_time=NOW + DAY))
    assert not verdict.valid
    assert verdict.reason.startswith("the signature claims to be made in the future")


async def test_a_signing_time_long_before_receipt_is_not_believed(
    pki: Pki, resident: x509.Certificate
) -> None:
    # Otherwise a stolen key, revoked since, could sign "before" its revocation.
    signature = await _sign(pki, resident, signing_time=NOW - 2 * HOUR)
    verdict = await pki.verify(signature, received_at=NOW)
    claimed, received = _utc(NOW - 2 * HOUR), _utc(NOW)
    _refused(
        verdict,
        f"the signature claims to be made at {claimed}, long before it was received at {received}",
    )
    assert verdict.signed_at == NOW - 2 * HOUR
    assert (await pki.verify(signature, received_at=NOW - 2 * HOUR + 29 * MINUTE)).valid
    early = await pki.verify(signature, received_at=NOW - 3 * HOUR)
    assert early.reason.startswith("the signature claims to be made in the future")


async def test_times_without_a_time_zone_are_a_callers_mistake(
    pki: Pki, resident: x509.Certificate
) -> None:
    signature = await _sign(pki, resident)
    with pytest.raises(ValueError, match="moment must be an aware datetime"):
        await pki.verify(signature, moment=dt.datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="received_at must be an aware datetime"):
        await pki.verify(signature, received_at=dt.datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="signing_time must be an aware datetime"):
        await _sign(pki, resident, signing_time=dt.datetime(2030, 1, 1))


async def test_a_certificate_from_an_unknown_authority_is_not_valid(pki: Pki) -> None:
    stranger = _pki("elsewhere")
    cert = stranger.resident()
    signature = await sign_detached(PAYLOAD, stranger.key, cert, [stranger.residents.certificate])
    verdict = await pki.verify(signature, crls=pki.crls() + stranger.crls())
    _refused(verdict, "the certificate was not issued by a trusted authority")
    assert verdict.signer == cert


async def test_a_certificate_revoked_before_signing_is_not_valid(
    pki: Pki, resident: x509.Certificate
) -> None:
    revoked_at = NOW - HOUR
    crls = pki.crls({resident.serial_number: revoked_at})
    verdict = await pki.verify(await _sign(pki, resident), crls=crls)
    _refused(verdict, f"the certificate was revoked on {_utc(revoked_at)}")
    assert verdict.revoked_since == revoked_at


async def test_a_certificate_revoked_after_signing_was_valid_when_it_signed(
    pki: Pki, resident: x509.Certificate
) -> None:
    revoked_at = NOW - HOUR
    crls = pki.crls({resident.serial_number: revoked_at})
    signature = await _sign(pki, resident, signing_time=NOW - 2 * HOUR)
    verdict = await pki.verify(signature, crls=crls, received_at=NOW - 2 * HOUR + 10 * MINUTE)
    assert verdict.valid, verdict.reason
    assert verdict.revoked_since == revoked_at
    today = await pki.verify(signature, crls=crls, moment=NOW)
    assert not today.valid
    assert today.reason.startswith("the certificate was revoked on")


async def test_a_revoked_issuing_authority_is_not_valid(
    pki: Pki, resident: x509.Certificate
) -> None:
    revoked_at = NOW - DAY
    crls = [pki.root.crl({pki.residents.certificate.serial_number: revoked_at}), pki.crls()[1]]
    verdict = await pki.verify(await _sign(pki, resident), crls=crls)
    _refused(
        verdict, f"the authority that issued the certificate was revoked on {_utc(revoked_at)}"
    )


async def test_a_certificate_expired_at_signing_time_is_not_valid(pki: Pki) -> None:
    expired = pki.resident(valid=(NOW - 30 * DAY, NOW - DAY))
    verdict = await pki.verify(await _sign(pki, expired))
    _refused(verdict, f"the certificate had expired on {_utc(NOW - DAY)}")


async def test_a_certificate_not_yet_valid_at_signing_time_is_not_valid(pki: Pki) -> None:
    early = pki.resident(valid=(NOW + HOUR, NOW + DAY))
    verdict = await pki.verify(await _sign(pki, early))
    _refused(
        verdict,
        f"the certificate was not yet valid; it is valid from {_utc(NOW + HOUR)}",
    )


async def test_without_the_issuers_crl_the_status_cannot_be_checked(
    pki: Pki, resident: x509.Certificate
) -> None:
    verdict = await pki.verify(await _sign(pki, resident), crls=[pki.root.crl()])
    _refused(
        verdict, "the certificate's revocation status could not be checked: no revocation list"
    )


async def test_a_crl_too_old_for_the_signing_time_is_not_enough(
    pki: Pki, resident: x509.Certificate
) -> None:
    crls = [pki.root.crl(), pki.residents.crl(at=NOW - 5 * DAY)]
    verdict = await pki.verify(await _sign(pki, resident), crls=crls)
    assert not verdict.valid
    assert verdict.reason.startswith("the revocation list is too old")


async def test_a_certificate_not_made_for_signing_is_not_valid(pki: Pki) -> None:
    encryption_only = pki.resident(signing=False)
    verdict = await pki.verify(await _sign(pki, encryption_only))
    _refused(verdict, "the certificate may not be used for signatures")


async def test_a_crl_that_is_not_der_is_a_callers_mistake(
    pki: Pki, resident: x509.Certificate
) -> None:
    with pytest.raises(ValueError, match=r"crls\[1\] is not a DER"):
        await pki.verify(await _sign(pki, resident), crls=[pki.root.crl(), b"nonsense"])


async def test_the_reason_is_translatable(pki: Pki, resident: x509.Certificate) -> None:
    verdict = await pki.verify(b"")
    assert verdict.reason_template == detached.NOT_CMS
    set_language("en")
    assert verdict.reason_in_current_language() == "not a CMS signature"
    assert (await pki.verify(await _sign(pki, resident))).reason_in_current_language() == ""


@pytest.fixture(scope="module")
def good_signature(pki: Pki, resident: x509.Certificate) -> bytes:
    import asyncio

    return asyncio.run(_sign(pki, resident))


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
async def test_damaged_signatures_never_raise_and_truncated_ones_are_never_valid(
    pki: Pki, good_signature: bytes, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(good_signature) - 1))
    at = data.draw(st.integers(0, len(good_signature) - 1))
    flipped = good_signature[:at] + bytes([good_signature[at] ^ 0xFF]) + good_signature[at + 1 :]
    assert not (await pki.verify(good_signature[:cut])).valid
    assert isinstance(await pki.verify(flipped), DetachedVerdict)
