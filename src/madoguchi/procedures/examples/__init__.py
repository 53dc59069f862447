"""The example procedures of the demo, published on `madoguchi seed` (idempotent).

Each YAML file here is published as its owner's procedure when it differs from what is current;
Sapporo adopts the national change-of-address template, to show adoption working.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import NotFound
from madoguchi.procedures import service
from madoguchi.procedures.loader import load_definition

EXAMPLES = Path(__file__).resolve().parent
ADOPTIONS = {
    ("011002", "soumu", "change-of-address"): {
        "contact": {"ja": "札幌市 各区役所 戸籍住民課", "en": "Sapporo City, each ward office"},
        "extra_guidance": {
            "ja": "区役所の窓口でも届け出ることができます。",
            "en": "You can also give notice at your ward office.",
        },
    }
}


async def sync_examples(session: AsyncSession) -> int:
    """Publish each example that changed; returns how many were published."""
    published = 0
    for path in sorted(EXAMPLES.glob("*.yaml")):
        published += await _publish_if_changed(session, path.read_text(encoding="utf-8"))
    for (adopter, owner, slug), localisation in ADOPTIONS.items():
        template = await service.get_procedure(session, owner, slug)
        await service.adopt_template(session, adopter, template, localisation)
    return published


async def _publish_if_changed(session: AsyncSession, source: str) -> int:
    definition = load_definition(source)
    try:
        procedure = await service.get_procedure(session, definition.owner, definition.slug)
    except NotFound:
        procedure = None
    if procedure is not None and procedure.current_version is not None:
        versions = await service.list_versions(session, procedure)
        current = next(v for v in versions if v.version == procedure.current_version)
        if current.source == source:
            return 0
    draft = await service.save_draft(session, definition.owner, source)
    procedure = await service.get_procedure(session, definition.owner, definition.slug)
    await service.publish(session, procedure, draft.version)
    return 1
