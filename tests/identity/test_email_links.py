"""One-time links: only a hash is kept; each works once, until it expires, on this site only."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import as_utc
from madoguchi.core.errors import InvalidInput
from madoguchi.core.settings import Settings
from madoguchi.identity import email_links
from madoguchi.identity.email_links import LinkUnusable, TooManyLinks, parse_email
from madoguchi.identity.models import SignInLink

NOW = dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)
EMAIL = "hanako@example.jp"
WHOLE = "Enter the whole email address, with the parts before and after the @."
DOMAIN = "The part after the @ is not an internet domain: check the email address."


@dataclass(frozen=True)
class SomeDraft:
    tenant_id: uuid.UUID
    id: uuid.UUID


# --- Email addresses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "address"),
    [
        ("hanako@example.jp", "hanako@example.jp"),
        ("  Hanako.Yamada@Example.JP ", "Hanako.Yamada@example.jp"),  # only the domain folds
        ("ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ", "hanako@example.jp"),  # typed in full width
        ("taro..@docomo.ne.jp", "taro..@docomo.ne.jp"),  # older mobile addresses
        ("a+tag@mail.example-city.lg.jp", "a+tag@mail.example-city.lg.jp"),
    ],
)
def test_email_addresses_are_read_as_people_type_them(typed: str, address: str) -> None:
    assert parse_email(typed, "email") == address


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter your email address."),
        ("   ", "Enter your email address."),
        ("hanako", WHOLE),
        ("@example.jp", WHOLE),
        ("花子@example.jp", WHOLE),
        ("hanako@localhost", DOMAIN),
        ("hanako@-bad.jp", DOMAIN),
        ("hanako@example.123", DOMAIN),
        (
            "a@" + "b" * 250 + ".jp",
            "An email address has at most 254 characters; this one has {count}.",
        ),
    ],
)
def test_what_is_not_an_email_address_is_refused_for_its_field(typed: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_email(typed, "contact_email")
    assert raised.value.message == message
    assert raised.value.field == "contact_email"


@given(st.emails())
def test_a_parsed_address_parses_to_itself(address: str) -> None:
    try:
        parsed = parse_email(address, "email")
    except InvalidInput:
        return  # outside the plain form we accept (quoted local parts, IP literals)
    assert parse_email(parsed, "email") == parsed
    assert parsed.rpartition("@")[2] == parsed.rpartition("@")[2].lower()
    assert len(parsed) <= 254


# --- Links --------------------------------------------------------------------------------


async def test_only_the_hash_of_the_token_is_kept(
    session: AsyncSession, settings: Settings
) -> None:
    draft = SomeDraft(uuid.uuid4(), uuid.uuid4())
    token = await email_links.create_link(session, EMAIL, "/me", NOW, settings, draft=draft)

    assert len(token) >= 43  # 32 random bytes
    stored = (await session.scalars(select(SignInLink))).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (stored.token_hash, stored.next_path, stored.email)
    assert (stored.draft_tenant_id, stored.draft_id) == (draft.tenant_id, draft.id)
    minutes = dt.timedelta(minutes=settings.sign_in_link_minutes)
    assert as_utc(stored.expires_at) == NOW + minutes


async def test_each_link_is_new(session: AsyncSession, settings: Settings) -> None:
    first = await email_links.create_link(session, EMAIL, "/me", NOW, settings)
    second = await email_links.create_link(session, EMAIL, "/me", NOW, settings)
    assert first != second


async def test_a_link_works_once(session: AsyncSession, settings: Settings) -> None:
    token = await email_links.create_link(session, EMAIL, "/me?tab=drafts", NOW, settings)

    link = await email_links.use_link(session, token, NOW + dt.timedelta(minutes=1))
    assert (link.email, link.next_path) == (EMAIL, "/me?tab=drafts")
    assert link.used_at is not None

    with pytest.raises(LinkUnusable) as raised:
        await email_links.use_link(session, token, NOW + dt.timedelta(minutes=2))
    assert raised.value.message == "This sign-in link has already been used. Ask for a new link."
    with pytest.raises(LinkUnusable):
        await email_links.check_link(session, token, NOW + dt.timedelta(minutes=2))


async def test_looking_at_a_link_does_not_use_it(session: AsyncSession, settings: Settings) -> None:
    token = await email_links.create_link(session, EMAIL, "/me", NOW, settings)
    for _ in range(3):  # a mail scanner, a preview, the person
        assert (await email_links.check_link(session, token, NOW)).email == EMAIL
    assert (await email_links.use_link(session, token, NOW)).email == EMAIL


async def test_an_expired_link_fails(session: AsyncSession, settings: Settings) -> None:
    token = await email_links.create_link(session, EMAIL, "/me", NOW, settings)
    expiry = NOW + dt.timedelta(minutes=settings.sign_in_link_minutes)

    await email_links.check_link(session, token, expiry - dt.timedelta(seconds=1))
    for check in (email_links.check_link, email_links.use_link):
        with pytest.raises(LinkUnusable) as raised:
            await check(session, token, expiry)
        assert raised.value.message == "This sign-in link has expired. Ask for a new link."


@pytest.mark.parametrize("token", ["nonsense-but-long-enough-token-000000000", "short", "../../me"])
async def test_an_unknown_or_cut_short_link_fails(session: AsyncSession, token: str) -> None:
    for check in (email_links.check_link, email_links.use_link):
        with pytest.raises(LinkUnusable) as raised:
            await check(session, token, NOW)
        assert "Ask for a new link" in raised.value.message
        assert raised.value.status == 422


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "evil.example",
        "",
        "/me\r\nLocation: https://evil.example",
        "/me with spaces",
        "/" + "a" * 500,
    ],
)
async def test_a_link_never_leads_off_this_site(
    session: AsyncSession, settings: Settings, target: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await email_links.create_link(session, EMAIL, target, NOW, settings)
    assert raised.value.field == "next"
    assert (await session.scalars(select(SignInLink))).all() == []


async def test_an_address_is_sent_a_few_links_an_hour_at_most(
    session: AsyncSession, settings: Settings
) -> None:
    for minute in range(email_links.LINKS_PER_HOUR):
        await email_links.create_link(
            session, EMAIL, "/me", NOW + dt.timedelta(minutes=minute), settings
        )
    with pytest.raises(TooManyLinks) as raised:
        await email_links.create_link(
            session, EMAIL, "/me", NOW + dt.timedelta(minutes=10), settings
        )
    assert raised.value.status == 429

    # another address is not held back, and an hour later this one is not either
    await email_links.create_link(session, "taro@example.jp", "/me", NOW, settings)
    await email_links.create_link(session, EMAIL, "/me", NOW + dt.timedelta(minutes=61), settings)


async def test_links_that_can_no_longer_be_used_are_purged(
    session: AsyncSession, settings: Settings
) -> None:
    early = NOW - dt.timedelta(hours=3)
    expired = await email_links.create_link(session, "a@example.jp", "/me", early, settings)
    used = await email_links.create_link(
        session, "b@example.jp", "/me", NOW - dt.timedelta(hours=2), settings
    )
    await email_links.use_link(session, used, NOW - dt.timedelta(hours=2))
    fresh = await email_links.create_link(session, "c@example.jp", "/me", NOW, settings)
    just_used = await email_links.create_link(session, "d@example.jp", "/me", NOW, settings)
    await email_links.use_link(session, just_used, NOW)  # still counts against the hourly limit

    assert await email_links.purge_links(session, NOW) == 2
    kept = {link.email for link in (await session.scalars(select(SignInLink))).all()}
    assert kept == {"c@example.jp", "d@example.jp"}
    await email_links.check_link(session, fresh, NOW)
    for gone in (expired, used):
        with pytest.raises(LinkUnusable):
            await email_links.check_link(session, gone, NOW)


def test_a_link_is_an_address_on_the_public_site(settings: Settings) -> None:
    configured = settings.model_copy(update={"public_url": "https://madoguchi.example/"})
    assert email_links.link_url(configured, "abc") == "https://madoguchi.example/sign-in/abc"
