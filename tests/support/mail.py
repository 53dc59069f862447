"""A real SMTP server for tests: aiosmtpd on a free port of the loopback interface.

``mailbox`` starts one per test and collects every message it accepts, parsed as a mail client
would; ``with_smtp`` points the settings at it. A test that wants the server to refuse mail sets
``mailbox.refuse`` to an SMTP reply such as ``"550 mailbox unavailable"``. ``another_browser``
follows an emailed link as another device would.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from madoguchi.core.settings import Settings
from tests.support.server import HOST, free_port

LINK = re.compile(r"https?://\S+/sign-in/[A-Za-z0-9_-]+")


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    refuse: str | None = None  # the reply to DATA, instead of accepting the message

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse:
            return self.refuse
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def only_message_to(self, address: str) -> EmailMessage:
        sent = [m for m in self.messages if m["To"] == address]
        assert len(sent) == 1, f"{len(sent)} messages to {address}"
        return sent[0]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def link_in(text: str) -> str:
    """The path of the one sign-in link in a message's text."""
    links = LINK.findall(text)
    assert len(links) == 1, f"expected one sign-in link, found {links}"
    return urlsplit(links[0]).path


@contextmanager
def another_browser(client: TestClient) -> Iterator[TestClient]:
    """The client as a second browser (another device): no cookies, nobody signed in.

    One client, because the running app's connections belong to its event loop (asyncpg's
    cannot be shared with the loop a second client would start); its own cookies come back after.
    """
    own = list(client.cookies.jar)  # copies: the jar itself is emptied below
    client.cookies.clear()
    try:
        yield client
    finally:
        client.cookies.clear()
        for cookie in own:
            client.cookies.jar.set_cookie(cookie)


def with_smtp(settings: Settings, mailbox: Mailbox) -> Settings:
    return settings.model_copy(
        update={"smtp_host": HOST, "smtp_port": mailbox.port, "smtp_starttls": False}
    )


@pytest.fixture(name="mailbox")
def mailbox_fixture() -> Iterator[Mailbox]:
    """Import ``mailbox_fixture`` into a test module to use the ``mailbox`` fixture."""
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname=HOST, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
