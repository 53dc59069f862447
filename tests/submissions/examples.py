"""Answers to the example procedures as an API client sends them, and helpers to reach them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from madoguchi.core.db import unit_of_work
from madoguchi.core.settings import Settings
from madoguchi.procedures import service as procedures
from madoguchi.procedures.validation import check_answers
from madoguchi.submissions import service, webhooks
from madoguchi.submissions.models import Channel, Submission
from madoguchi.tenants import service as tenants
from tests.support.samples import PDF

SAPPORO = "011002"
DAY = dt.date(2026, 12, 10)

MOVING: dict[str, Any] = {
    "moved_on": "2026-04-01",
    "address": {"postal_code": "060-0001", "street": "1-2-3", "building": "大通ハイツ 101"},
    "members": [
        {
            "member_name": {
                "family": "札幌",
                "given": "花子",
                "family_kana": "サッポロ",
                "given_kana": "ハナコ",
            },
            "member_birth": "平成2年5月6日",
            "relationship": "spouse",
        }
    ],
}
OPINION: dict[str, Any] = {
    "anonymous": False,
    "name": "山田 花子",
    "email": "hanako@example.jp",
    "topics": ["safety", "public"],
    "opinion_safety": "子どもが安心して使える仕組みを。",
    "opinion_public": "窓口の予約に使えると便利です。",
}


def subsidy(quote_ref: str) -> dict[str, Any]:
    return {
        "corporate_number": "5835678256246",
        "employees": 12,
        "equipment_cost": "1,200,000",
        "service_cost": 300000,
        "quotes": [quote_ref],
        "bank_account": {
            "bank": "0001",
            "branch": "001",
            "type": "ordinary",
            "number": "1234567",
            "holder": "カ）マドグチ",
        },
    }


def procedure_id(client: TestClient, tenant: str, slug: str) -> str:
    listed = client.get("/api/v1/procedures", params={"tenant": tenant}).json()["items"]
    return str(next(item["id"] for item in listed if item["slug"] == slug))


def moving_id(client: TestClient) -> str:
    """Sapporo's change-of-address: the national template it adopted."""
    return procedure_id(client, "011002", "change-of-address")


def upload_pdf(client: TestClient, procedure: str, question: str, name: str = "見積書.pdf") -> Any:
    return client.post(
        f"/api/v1/procedures/{procedure}/files",
        params={"question": question},
        files={"file": (name, PDF, "application/octet-stream")},
    )


def random_id() -> str:
    return str(uuid.uuid4())


async def add_webhook(
    factory: async_sessionmaker[AsyncSession], settings: Settings, code: str, url: str
) -> tuple[str, str]:
    """A webhook for the body with this code: its id and its secret."""
    async with unit_of_work(factory) as session:
        tenant = await tenants.get_tenant(session, code)
        hook, secret = await webhooks.create_webhook(session, tenant.id, url, settings)
        return str(hook.id), secret


async def submit_moving(factory: async_sessionmaker[AsyncSession]) -> Submission:
    """A change-of-address notice to Sapporo, committed (which queues its deliveries)."""
    async with unit_of_work(factory) as session:
        procedure = await procedures.get_procedure(session, SAPPORO, "change-of-address")
        now = await procedures.current(session, procedure)
        accepted = check_answers(now.definition, MOVING, DAY)
        intake = service.Intake(Channel.API, "ja", "api")
        return (await service.submit(session, procedure, now.version, accepted, intake)).submission
