"""Email: templates in both languages, sent over real SMTP, logged when there is no server."""

from __future__ import annotations

import logging

import pytest
from jinja2 import UndefinedError

from madoguchi.core.errors import ServiceUnavailable
from madoguchi.core.settings import Settings
from madoguchi.notifications import mail
from tests.support.mail import Mailbox, link_in, mailbox_fixture, text_of, with_smtp  # noqa: F401
from tests.support.server import free_port

LINK = "https://madoguchi.example/sign-in/abcdefghijklmnopqrstuvwxyz0123456789_-ABCDE?x=1&y=2"
SIGN_IN = {"link": LINK, "minutes": 30, "site": "https://madoguchi.example"}
RESUME = {
    **SIGN_IN,
    "procedure": "メタバースに関する意見募集",
    "body": "総務省",
    "kept_until": "2026年12月31日 (令和8年)",
}
OFFICIAL_INVITATION = {
    "link": LINK,
    "site": "https://madoguchi.example",
    "inviter": "札幌 花子",
    "body": "札幌市",
    "role": "担当者",
    "days": 7,
}
ORGANISATION_INVITATION = {**SIGN_IN, "organisation": "株式会社テスト"}
CONTEXTS = {
    "sign_in": SIGN_IN,
    "resume": RESUME,
    "official_invitation": OFFICIAL_INVITATION,
    "organisation_invitation": ORGANISATION_INVITATION,
}


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_every_email_has_a_subject_and_the_link_as_typed(template: str, language: str) -> None:
    message = mail.render_message("hanako@example.jp", template, language, **CONTEXTS[template])
    assert message.subject
    assert "\n" not in message.subject
    assert LINK in message.text  # plain text: the "&" is not escaped to "&amp;"
    assert "{{" not in message.text


def test_every_template_file_comes_in_both_languages() -> None:
    names = {path.name for path in mail.EMAIL_TEMPLATE_DIR.glob("*.txt")}
    stems = {name.split(".")[0] for name in names}
    assert stems == set(CONTEXTS)
    assert names == {f"{stem}.{language}.txt" for stem in stems for language in ("ja", "en")}


def test_the_email_is_in_the_language_asked_for() -> None:
    japanese = mail.render_message("a@example.jp", "sign_in", "ja", **SIGN_IN)
    english = mail.render_message("a@example.jp", "sign_in", "en", **SIGN_IN)
    assert "サインイン" in japanese.subject
    assert "sign in" in english.subject


def test_a_template_must_begin_with_its_subject() -> None:
    assert (
        mail.message_from("a@example.jp", "Subject: Hello\n\nText", "x.en.txt").subject == "Hello"
    )
    with pytest.raises(ValueError, match=r"x\.en\.txt must start with 'Subject: '"):
        mail.message_from("a@example.jp", "Hello\n\nText", "x.en.txt")


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError, match="link"):
        mail.render_message("a@example.jp", "sign_in", "ja", minutes=30, site="x")


async def test_a_message_reaches_the_smtp_server(settings: Settings, mailbox: Mailbox) -> None:
    message = mail.render_message("hanako@example.jp", "resume", "ja", **RESUME)
    await mail.send(with_smtp(settings, mailbox), message)

    received = mailbox.only_message_to("hanako@example.jp")
    assert received["Subject"] == message.subject  # Japanese, encoded and decoded again
    assert received["From"] == settings.mail_from
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Message-ID"] and received["Date"]
    assert received.get_content_charset() == "utf-8"
    assert "メタバースに関する意見募集" in text_of(received)
    assert link_in(text_of(received)) == "/sign-in/abcdefghijklmnopqrstuvwxyz0123456789_-ABCDE"


async def test_without_an_smtp_host_the_message_goes_to_the_log(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    assert not settings.smtp_host
    message = mail.render_message("hanako@example.jp", "sign_in", "en", **SIGN_IN)
    with caplog.at_level(logging.INFO, logger=mail.__name__):
        await mail.send(settings, message)
    logged = caplog.records[-1]
    assert logged.levelno == logging.INFO
    assert "hanako@example.jp" in logged.getMessage()
    assert LINK in logged.getMessage()


async def test_a_server_that_cannot_be_reached_is_a_clear_503_without_the_text_in_the_log(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_starttls": False}
    )
    message = mail.render_message("hanako@example.jp", "sign_in", "ja", **SIGN_IN)
    with caplog.at_level(logging.INFO), pytest.raises(ServiceUnavailable) as raised:
        await mail.send(nowhere, message)
    assert raised.value.status == 503
    assert raised.value.message == "We could not send the email. Try again in a few minutes."
    assert "could not be sent" in caplog.text
    assert "example.jp" in caplog.text
    assert LINK not in caplog.text
    assert "hanako@" not in caplog.text


async def test_a_server_that_refuses_the_message_is_a_clear_503(
    settings: Settings, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    mailbox.refuse = "554 5.7.1 rejected"
    message = mail.render_message("hanako@example.jp", "sign_in", "en", **SIGN_IN)
    with caplog.at_level(logging.ERROR), pytest.raises(ServiceUnavailable):
        await mail.send(with_smtp(settings, mailbox), message)
    assert mailbox.messages == []
    assert "554" in caplog.text
    assert LINK not in caplog.text
