"""The in-process half of bench/signing.py: sealing and verifying one receipt, ours and pyHanko's.

Everything here runs in the benchmark's own process, one document at a time, so wall-clock
time per document is that document's cost (with PostgreSQL on the same 2 cores). What is
compared:

- **sealing**: ``sealing.seal_document`` in a unit of work of its own, as a request makes it
  (tenant scope, e-seal lookup, evidence with every CRL built and signed, the TSA loaded, the
  stamp drawn, PAdES B-LT through ``add_signature``, the file store, the ``sealed_documents``
  row, the commit) against pyHanko called directly on the same receipt with everything made
  once beforehand: ``SimpleSigner`` on the same private key and certificate chain, the same
  ``PlatformTimeStamper``, the same stamp style and field box, and a ValidationContext with the
  same root and CRLs (already parsed; a fresh context per document, as pyHanko caches what it
  validated in one).
- **verification**: ``verification.check_pdf`` against pyHanko's ``async_validate_pdf_signature``
  with an equivalent ValidationContext (same roots and CRLs, no fetching, hard-fail, at the
  timestamp's moment), on the same sealed receipt.
- **the parts of a seal**, each timed on its own, to say where our layers' time goes.

The variants take turns in rounds (``interleaved``), so a burst of noise on this shared machine
hits them all alike.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from madoguchi.core.clock import today_in_japan
from madoguchi.core.files import FileStore
from madoguchi.core.reference_numbers import new_reference
from madoguchi.core.settings import Settings
from madoguchi.core.tenancy import enter_tenant
from madoguchi.core.wareki import format_wareki
from madoguchi.procedures.loader import load_definition
from madoguchi.procedures.validation import check_answers
from madoguchi.signatures import pdf_signing, sealing, verification
from madoguchi.signatures.key_signer import to_asn1
from madoguchi.signatures.models import SealedDocument
from madoguchi.signatures.pki.seals import Body, SealingIdentity, seal_of
from madoguchi.signatures.stamp import StampText, stamp_style
from madoguchi.signatures.timestamps import PlatformTimeStamper
from madoguchi.submissions.models import Submission
from madoguchi.submissions.receipts import ReceiptFor, receipt_pdf
from madoguchi.tenants import service as tenants

BENCH = Path(__file__).resolve().parent
TENANT = "131016"  # Chiyoda
TITLE = "児童手当認定請求書 受付票"
Operation = Callable[[], Awaitable[object]]


@dataclass
class Cost:
    label: str
    wall_s: list[float]
    cpu_s: float  # this process's CPU, per operation

    @property
    def mean_s(self) -> float:
        return sum(self.wall_s) / len(self.wall_s)


async def interleaved(variants: list[tuple[str, Operation]], n: int, rounds: int) -> list[Cost]:
    """Each variant warmed up twice, then all timed in turns: ``rounds`` × ``n / rounds`` each."""
    for _, operation in variants:
        for _ in range(2):
            await operation()
    spent: dict[str, list[float]] = {label: [] for label, _ in variants}
    cpu = dict.fromkeys(spent, 0.0)
    batch = max(1, n // rounds)
    for _ in range(rounds):
        for label, operation in variants:
            cpu_started = time.process_time()
            for _ in range(batch):
                started = time.perf_counter()
                await operation()
                spent[label].append(time.perf_counter() - started)
            cpu[label] += time.process_time() - cpu_started
    return [Cost(label, spent[label], cpu[label] / len(spent[label])) for label in spent]


def receipt() -> tuple[bytes, int]:
    """A real receipt (submissions.receipts) of the intake benchmark's 20-question child
    allowance application, two children, in Japanese with IPAex Gothic embedded; and its pages."""
    today = dt.date.today()
    source = (BENCH / "intake-procedure.yaml").read_text("utf-8")
    definition = load_definition(source)
    import intake  # bench/intake.py: its realistic answers (imported late: it is a big module)

    accepted = check_answers(definition, intake.realistic_answers(today), today)
    submission = Submission(
        id=uuid.uuid4(),
        reference="7KQ2-9XMD-R",
        answers=accepted.answers,
        computed=accepted.computed,
        language="ja",
        submitted_at=dt.datetime.now(dt.UTC),
    )
    pdf = receipt_pdf(submission, ReceiptFor("千代田区", "Chiyoda City", definition))
    return pdf, pdf_signing.page_count(pdf)


@dataclass
class Bench:
    """What every variant works with: the app's settings, sessions, the body and its receipt."""

    settings: Settings
    factory: async_sessionmaker[AsyncSession]
    body: Body
    pdf: bytes

    async def seal(self) -> bytes:
        """What a request does: its own unit of work, the body's tenant scope, seal_document."""
        async with self.session() as db:
            sealed = await sealing.seal_document(
                db, self.settings, self.body, self.pdf, kind="receipt", title=TITLE
            )
        return sealed.pdf

    async def seal_only(self, db: AsyncSession) -> bytes:
        """Our layers over pyHanko and nothing else: seal_pdf in a session already open (the
        e-seal looked up, the evidence and the TSA, the stamp, PAdES), nothing kept."""
        reference = new_reference()
        return await sealing.seal_pdf(db, self.settings, self.body, self.pdf, reference, TITLE)

    def session(self) -> Any:
        return _TenantUnitOfWork(self.factory, self.body.tenant_id)


class _TenantUnitOfWork:
    """``core.db.unit_of_work`` entered in the body's tenant scope."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID) -> None:
        self._factory, self._tenant_id = factory, tenant_id

    async def __aenter__(self) -> AsyncSession:
        self._session = self._factory()
        await enter_tenant(self._session, self._tenant_id)
        return self._session

    async def __aexit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if error is None:
                await self._session.commit()
            else:
                await self._session.rollback()
        finally:
            await self._session.close()


async def body_of(factory: async_sessionmaker[AsyncSession]) -> Body:
    async with factory() as db:
        tenant = await tenants.get_tenant(db, TENANT)
        return Body(tenant.id, tenant.code, tenant.name)


def stamp_text(settings: Settings) -> StampText:
    reference = new_reference()
    return StampText(
        body_name="千代田区",
        date_text=format_wareki(today_in_japan()),
        verify_url=sealing.verification_url(settings, reference),
        caption=sealing.CAPTION,
        seal_word="公印",
    )


# --- pyHanko called directly -----------------------------------------------------------------


@dataclass
class Direct:
    """pyHanko's own pieces, made once: what a caller of pyHanko would keep between documents."""

    signer: SimpleSigner  # as shipped
    kept: SimpleSigner  # the key kept parsed
    timestamper: Any
    roots: list[Any]
    others: list[Any]
    crls: list[Any]
    style: Any
    box: tuple[int, int, int, int]
    count: int = 0

    def context(self, moment: dt.datetime | None = None) -> ValidationContext:
        return ValidationContext(
            trust_roots=self.roots,
            other_certs=self.others,
            crls=self.crls,
            allow_fetching=False,
            revocation_mode="hard-fail",
            moment=moment,
            retroactive_revinfo=moment is not None,
        )

    async def seal(self, pdf: bytes, *, key_kept: bool = True) -> bytes:
        self.count += 1
        name = f"Seal-direct-{self.count}"
        metadata = PdfSignatureMetadata(
            field_name=name,
            md_algorithm="sha256",
            name="千代田区",
            reason=f"{TITLE} (bench)",
            subfilter=fields.SigSeedSubFilter.PADES,
            docmdp_permissions=fields.MDPPerm.FILL_FORMS,
            embed_validation_info=True,
            validation_context=self.context(),
            signer_key_usage=pdf_signing.KEY_USAGE,
        )
        signer = PdfSigner(
            metadata,
            signer=self.kept if key_kept else self.signer,
            timestamper=self.timestamper,
            stamp_style=self.style,
            new_field_spec=fields.SigFieldSpec(name, on_page=-1, box=self.box),
        )
        output = io.BytesIO()
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        await signer.async_sign_pdf(writer, output=output)
        return output.getvalue()

    async def validate(self, pdf: bytes) -> Any:
        signature = PdfFileReader(io.BytesIO(pdf), strict=True).embedded_regular_signatures[0]
        context = self.context(timestamp_moment(signature))
        return await async_validate_pdf_signature(
            signature,
            signer_validation_context=context,
            ts_validation_context=context,
            key_usage_settings=verification.KEY_USAGE,
        )


def timestamp_moment(signature: Any) -> dt.datetime:
    for attribute in signature.signer_info["unsigned_attrs"]:
        if attribute["type"].native == "signature_time_stamp_token":
            token = attribute["values"][0]
            moment: dt.datetime = (
                token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
            )
            return moment
    raise SystemExit("the sealed receipt carries no signature timestamp")


async def direct_pieces(bench: Bench) -> Direct:
    """The same key, chain, TSA, root, CRLs and stamp as seal_document uses, made once."""
    async with bench.session() as db:
        identity = await seal_of(db, bench.settings, bench.body)
        proof = await sealing.evidence(db, bench.settings)
        timestamper = await sealing.timestamper(db, bench.settings)
    writer = IncrementalPdfFileWriter(io.BytesIO(bench.pdf), strict=False)
    return Direct(
        signer=simple_signer(identity),
        kept=simple_signer(identity, key_kept=True),
        timestamper=timestamper,
        roots=[to_asn1(root) for root in proof.trust_roots],
        others=[to_asn1(certificate) for certificate in identity.chain],
        crls=[asn1_crl.CertificateList.load(der) for der in proof.crls],
        style=stamp_style(stamp_text(bench.settings)),
        box=pdf_signing._stamp_box(writer),
    )


def simple_signer(identity: SealingIdentity, *, key_kept: bool = False) -> SimpleSigner:
    """pyHanko's own signer on the e-seal's private key (the software backend: it can be read).

    ``SimpleSigner`` as shipped parses its private key again for every raw signature, and signs
    in the dry run that sizes the placeholder too; with ``key_kept`` the parsed key is kept and
    the dry run signs nothing, as our KeySigner does: the fastest pyHanko can sign."""
    private = identity.key._key  # type: ignore[attr-defined]  # SoftwareKey: the bench opens it
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    chain = [to_asn1(certificate) for certificate in identity.chain]
    kind = KeptKeySigner if key_kept else SimpleSigner
    signer = kind(
        signing_cert=to_asn1(identity.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )
    signer.loaded = private
    return signer


class KeptKeySigner(SimpleSigner):
    """SimpleSigner with its key parsed once (``loaded``), no key operation in the dry run."""

    loaded: rsa.RSAPrivateKey

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False
                             ) -> bytes:  # fmt: skip
        if dry_run:
            return bytes(self.loaded.key_size // 8)
        return self.loaded.sign(data, padding.PKCS1v15(), hashes.SHA256())


# --- the parts of one seal -------------------------------------------------------------------


async def parts(bench: Bench, sealed: bytes) -> list[tuple[str, Operation]]:
    """Each step seal_document takes, on its own (a unit of work around those that query)."""
    settings, body = bench.settings, bench.body
    store = FileStore.from_settings(settings)
    async with bench.session() as db:
        prepared: dict[str, Any] = {
            "identity": await seal_of(db, settings, body),
            "evidence": await sealing.evidence(db, settings),
            "timestamper": await sealing.timestamper(db, settings),
        }
    counter = iter(range(10**9))

    async def identity() -> None:
        async with bench.session() as db:
            await seal_of(db, settings, body)

    async def evidence() -> None:
        async with bench.session() as db:
            await sealing.evidence(db, settings)

    async def timestamper() -> None:
        async with bench.session() as db:
            await sealing.timestamper(db, settings)

    async def dummy_token() -> None:
        authority = prepared["timestamper"]._authority
        await PlatformTimeStamper(authority).async_dummy_response("sha256")

    async def stamp() -> None:
        stamp_style(stamp_text(settings))

    async def pades() -> None:
        request = pdf_signing.SignatureRequest(
            identity=prepared["identity"],
            field_name=f"Seal-part-{next(counter)}",
            signer_name=body.name,
            reason=f"{TITLE} (bench)",
            stamp=stamp_text(settings),
        )
        await pdf_signing.add_signature(
            bench.pdf, request, prepared["evidence"], prepared["timestamper"]
        )

    async def file_store() -> None:
        store.store(sealed + b"\n%" + str(next(counter)).encode())  # new bytes: a new file

    async def row() -> None:
        async with bench.session() as db:
            db.add(_row(body, len(sealed)))
            await db.flush()

    async def empty() -> None:
        async with bench.session():
            pass

    return [
        ("an empty unit of work in the tenant's scope (BEGIN, SET, COMMIT)", empty),
        ("e-seal lookup (seal_of: SELECT, chain, key)", identity),
        ("evidence(): root and 4 CRLs, each built and signed", evidence),
        ("timestamper(): the TSA and its chain loaded", timestamper),
        ("a new PlatformTimeStamper's first use: pyHanko's dummy token", dummy_token),
        ("stamp drawn (reportlab page + QR code)", stamp),
        ("add_signature with the stamp, inputs ready (pyHanko via KeySigner)", pades),
        ("file store: write + fsync a sealed file", file_store),
        ("sealed_documents row: unit of work, INSERT, commit", row),
    ]


def _row(body: Body, size: int) -> SealedDocument:
    return SealedDocument(
        tenant_id=body.tenant_id,
        reference=new_reference(),
        kind="receipt",
        subject_id=None,
        title=TITLE,
        file_sha256="0" * 64,
        size=size,
        sealed_at=dt.datetime.now(dt.UTC),
    )
