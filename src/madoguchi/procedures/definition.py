"""The procedure definition format, ``madoguchi.procedure/1``: a procedure as data.

A definition is written in YAML (see docs/procedures.md and the JSON Schema that
``definition_json_schema`` exports); these Pydantic models are the one source of both. Checks that
span the whole definition (unique ids, conditions that refer only to earlier answers, skip targets
that exist) are in ``references.py``; loading with line numbers is in ``loader.py``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from madoguchi.core.i18n import current_language

FORMAT = "madoguchi.procedure/1"
Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", description="lower-case id")]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,62}$", description="lower-case slug")]


class Strict(BaseModel):
    """Every part of a definition: unknown keys are errors, so a typo is never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LocalText(Strict):
    """Text in Japanese, and in English where the owner provides it."""

    ja: str = Field(min_length=1)
    en: str | None = Field(default=None, min_length=1)

    def __str__(self) -> str:
        """The text in the reader's language; Japanese where there is no English."""
        return (self.en if current_language() == "en" else None) or self.ja


class WhoMayApply(StrEnum):
    ANYONE = "anyone"
    RESIDENT = "resident"
    BUSINESS = "business"
    MEDICAL_INSTITUTION = "medical_institution"


class Assurance(StrEnum):
    """How strongly the applicant must have proven who they are ([P3] adds the proofs)."""

    NONE = "none"
    LOW = "low"
    HIGH = "high"


class Signature(StrEnum):
    """Whether the applicant signs at submit time with the My Number card's signature
    certificate ([P4]): for procedures that needed a registered seal (実印) on paper."""

    NONE = "none"
    REQUIRED = "required"


# --- Conditions over earlier answers -------------------------------------------------------

OPERATORS = (
    "equals", "not_equals", "includes", "greater_than", "less_than", "at_least", "at_most",
    "answered",
)  # fmt: skip


class Compare(Strict):
    """One test of one earlier answer (or computed value): exactly one operator."""

    answer: Id
    equals: Any = None
    not_equals: Any = None
    includes: Any = Field(default=None, description="a checkbox answer contains this value")
    # Numbers, or dates for date answers (``{answer: moved_on, at_least: 2026-04-01}``).
    greater_than: float | dt.date | None = None
    less_than: float | dt.date | None = None
    at_least: float | dt.date | None = None
    at_most: float | dt.date | None = None
    answered: bool | None = None

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> Compare:
        given = [name for name in OPERATORS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(OPERATORS)} (found {len(given)})")
        return self

    @property
    def operator(self) -> str:
        return next(name for name in OPERATORS if getattr(self, name) is not None)


class All(Strict):
    all: list[Condition] = Field(min_length=1)


class AnyOf(Strict):
    any: list[Condition] = Field(min_length=1)


class Not(Strict):
    not_: Condition = Field(alias="not")


def _condition_kind(value: Any) -> str:
    """Which kind of condition a mapping is, by its key, so errors speak of that kind only."""
    keys = value.keys() if isinstance(value, dict) else vars(value).keys()
    for key, kind in (("all", "all"), ("any", "any"), ("not", "not"), ("not_", "not")):
        if key in keys:
            return kind
    return "compare"


Condition = Annotated[
    Annotated[Compare, Tag("compare")]
    | Annotated[All, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")],
    Discriminator(_condition_kind),
]


# --- Questions -------------------------------------------------------------------------------


class QuestionBase(Strict):
    id: Id
    label: LocalText
    hint: LocalText | None = None
    required: bool = True
    show_if: Condition | None = None


class ShortText(QuestionBase):
    type: Literal["short_text"]
    max_length: int = Field(default=200, ge=1, le=1000)


class LongText(QuestionBase):
    type: Literal["long_text"]
    min_length: int = Field(default=0, ge=0)
    max_length: int = Field(default=4000, ge=1, le=100_000)


class Number(QuestionBase):
    type: Literal["number"]
    integer: bool = True
    minimum: float | None = None
    maximum: float | None = None
    unit: LocalText | None = None


class Date(QuestionBase):
    type: Literal["date"]
    earliest: dt.date | None = None
    latest: dt.date | None = None


class Option(Strict):
    value: Annotated[str, Field(min_length=1, max_length=100)]
    label: LocalText


class Choice(QuestionBase):
    type: Literal["choice"]
    style: Literal["radio", "select", "checkboxes"] = "radio"
    options: list[Option] = Field(min_length=1)
    other: bool = Field(default=False, description="offer 'other' with a text box")
    min_selected: int | None = Field(default=None, ge=0)
    max_selected: int | None = Field(default=None, ge=1)


class YesNo(QuestionBase):
    type: Literal["yes_no"]


class Email(QuestionBase):
    type: Literal["email"]


class Phone(QuestionBase):
    type: Literal["phone"]


class Address(QuestionBase):
    type: Literal["address"]


class PersonName(QuestionBase):
    type: Literal["person_name"]
    kana: bool = Field(default=True, description="also ask the name in katakana")


class DateOfBirth(QuestionBase):
    type: Literal["date_of_birth"]
    min_age: int | None = Field(default=None, ge=0, le=150)
    max_age: int | None = Field(default=None, ge=0, le=150)


class MyNumber(QuestionBase):
    type: Literal["my_number"]


class CorporateNumber(QuestionBase):
    type: Literal["corporate_number"]


class BankAccount(QuestionBase):
    type: Literal["bank_account"]


class FileUpload(QuestionBase):
    type: Literal["file"]
    max_size_mb: float = Field(default=10, gt=0, le=100)
    accept: list[str] = Field(
        default_factory=lambda: ["application/pdf", "image/jpeg", "image/png"],
        description="media types, checked against the file's content, not its name",
    )
    max_files: int = Field(default=1, ge=1, le=20)


class Declaration(QuestionBase):
    type: Literal["declaration"]


class LocalGovernment(QuestionBase):
    type: Literal["local_government"]


class Guidance(Strict):
    """Text shown among the questions; it asks nothing."""

    type: Literal["guidance"]
    id: Id
    text: LocalText
    show_if: Condition | None = None


class Group(QuestionBase):
    """A repeatable group: the same questions for each item ("add another")."""

    type: Literal["group"]
    questions: list[Question] = Field(min_length=1)
    min_items: int = Field(default=1, ge=0)
    max_items: int = Field(default=10, ge=1, le=100)


Question = Annotated[
    ShortText
    | LongText
    | Number
    | Date
    | Choice
    | YesNo
    | Email
    | Phone
    | Address
    | PersonName
    | DateOfBirth
    | MyNumber
    | CorporateNumber
    | BankAccount
    | FileUpload
    | Declaration
    | LocalGovernment
    | Guidance
    | Group,
    Field(discriminator="type"),
]


# --- Pages, skips, exits, computed values --------------------------------------------------


class Skip(Strict):
    """After a page: when the condition holds, go to a page, to the end, or to an exit."""

    when: Condition
    goto: Annotated[str, Field(pattern=r"^(end|exit:[a-z][a-z0-9_]*|[a-z][a-z0-9_]*)$")]


class Page(Strict):
    id: Id
    title: LocalText
    show_if: Condition | None = None
    questions: list[Question] = Field(min_length=1)
    next: list[Skip] = Field(default_factory=list)


class Exit(Strict):
    id: Id
    message: LocalText


class Computed(Strict):
    """A value computed from answers: usable in later conditions and shown on the receipt."""

    id: Id
    label: LocalText
    sum: list[Id] | None = None
    age_of: Id | None = Field(default=None, description="age today from a date of birth")
    count_of: Id | None = Field(default=None, description="items of a repeatable group")

    @model_validator(mode="after")
    def _exactly_one_formula(self) -> Computed:
        given = [f for f in ("sum", "age_of", "count_of") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of sum, age_of, count_of")
        return self


class Definition(Strict):
    """One version of a procedure, as its owner wrote it."""

    format: Literal["madoguchi.procedure/1"]
    slug: Slug
    owner: Annotated[str, Field(description="the owning public body's code")]
    title: LocalText
    summary: LocalText
    guidance: LocalText | None = None
    legal_basis: LocalText | None = None
    who_may_apply: WhoMayApply = WhoMayApply.ANYONE
    assurance: Assurance = Assurance.NONE
    signature: Signature = Signature.NONE
    opens: dt.date | None = None
    closes: dt.date | None = None
    service_standard_days: int = Field(default=10, ge=1, le=365)
    contact: LocalText | None = None
    template: bool = Field(default=False, description="a national template others may adopt")
    pages: list[Page] = Field(min_length=1)
    exits: list[Exit] = Field(default_factory=list)
    computed: list[Computed] = Field(default_factory=list)
    declaration: LocalText | None = None
    confirmation: LocalText

    @model_validator(mode="after")
    def _opens_before_it_closes(self) -> Definition:
        if self.opens and self.closes and self.closes < self.opens:
            raise ValueError("closes must not be before opens")
        return self

    @model_validator(mode="after")
    def _a_signature_needs_the_card(self) -> Definition:
        if self.signature is Signature.REQUIRED and self.assurance is not Assurance.HIGH:
            raise ValueError(
                "signature: required needs assurance: high (only a person signed in with the "
                "My Number card can sign with it)"
            )
        return self


def definition_json_schema() -> dict[str, Any]:
    """The JSON Schema of the format, published for editors and other systems."""
    schema = Definition.model_json_schema(by_alias=True)
    schema["$id"] = "https://madoguchi.jp/schemas/procedure-1.json"
    schema["title"] = "madoguchi procedure definition, format 1"
    return schema
