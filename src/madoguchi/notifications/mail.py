"""Email: plain-text messages in the reader's language, sent over SMTP.

Each message is a template under ``templates/emails/``, one file per language
(``sign_in.ja.txt``, ``sign_in.en.txt``): its first line is ``Subject: …``, then a blank line,
then the text. Emails are written per language rather than per message id because a letter reads
differently in each: a Japanese one has its own greetings and order.

With no SMTP host (development only: production refuses to start without one) a message is
written to the log instead, so a developer can follow the link in it. A message that cannot be
sent raises ``ServiceUnavailable``; the failure is logged without the message's text, which may
hold a sign-in link.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from functools import cache
from typing import Any

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from madoguchi.core.errors import ServiceUnavailable
from madoguchi.core.i18n import Language, current_language
from madoguchi.core.settings import Settings
from madoguchi.core.templating import TEMPLATE_DIR

log = logging.getLogger(__name__)

EMAIL_TEMPLATE_DIR = TEMPLATE_DIR / "emails"
SUBJECT_PREFIX = "Subject: "
SEND_TIMEOUT_SECONDS = 15
IMPLICIT_TLS_PORT = 465  # SMTPS: TLS from the first byte instead of STARTTLS


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str


@cache
def _environment() -> Environment:
    # Plain text, not HTML: escaping would turn the "&" of a link into "&amp;".
    return Environment(
        loader=FileSystemLoader(EMAIL_TEMPLATE_DIR),
        autoescape=False,  # noqa: S701
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_message(to: str, template: str, language: Language, **context: Any) -> Message:
    """The message ``template`` (such as ``sign_in``) in ``language``, addressed to ``to``."""
    name = f"{template}.{language}.txt"
    return message_from(to, _environment().get_template(name).render(**context), name)


def message_from(to: str, rendered: str, name: str) -> Message:
    """A rendered template's ``Subject: …`` line and the text after it."""
    first_line, _, text = rendered.partition("\n")
    if not first_line.startswith(SUBJECT_PREFIX):
        raise ValueError(f"email template {name} must start with 'Subject: '")
    subject = first_line.removeprefix(SUBJECT_PREFIX).strip()
    return Message(to=to, subject=subject, text=text.strip() + "\n")


async def send_template(settings: Settings, to: str, template: str, **context: Any) -> None:
    """Render ``template`` in the current request's language and send it."""
    await send(settings, render_message(to, template, current_language(), **context))


async def send(settings: Settings, message: Message) -> None:
    if not settings.smtp_host:
        log.info(
            "No SMTP host is set (MADOGUCHI_SMTP_HOST), so this email was not sent.\n"
            "To: %s\nSubject: %s\n\n%s",
            message.to,
            message.subject,
            message.text,
        )
        return
    implicit_tls = settings.smtp_port == IMPLICIT_TLS_PORT
    try:
        await aiosmtplib.send(
            _email(settings, message),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            use_tls=implicit_tls,
            start_tls=settings.smtp_starttls and not implicit_tls,
            timeout=SEND_TIMEOUT_SECONDS,
        )
    except (aiosmtplib.SMTPException, OSError) as error:
        # Never the text (it may hold a sign-in link) nor the whole address.
        log.error(
            "email to an address at %s could not be sent through %s:%s: %s %s",
            message.to.rpartition("@")[2],
            settings.smtp_host,
            settings.smtp_port,
            error.__class__.__name__,
            getattr(error, "code", ""),
        )
        raise ServiceUnavailable(
            "We could not send the email. Try again in a few minutes."
        ) from error


def _email(settings: Settings, message: Message) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=_domain_of(settings.mail_from))
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies stay away
    email.set_content(message.text, charset="utf-8")
    return email


def _domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "madoguchi.localhost"
