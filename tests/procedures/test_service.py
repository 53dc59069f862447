"""Procedures stored with their versions: drafts, publishing, rollback, adopting templates."""

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.procedures import service

EXAMPLES = Path(__file__).parents[2] / "src/madoguchi/procedures/examples"
# The examples are published in every test database; these tests use copies under other slugs.
CONSULTATION = (
    (EXAMPLES / "metaverse-consultation.yaml")
    .read_text(encoding="utf-8")
    .replace("slug: metaverse-consultation", "slug: test-consultation")
)
MOVING = (
    (EXAMPLES / "change-of-address.yaml")
    .read_text(encoding="utf-8")
    .replace("slug: change-of-address", "slug: test-moving")
)


async def test_a_draft_is_edited_in_place_until_published(session: AsyncSession) -> None:
    first = await service.save_draft(session, "soumu", CONSULTATION)
    again = await service.save_draft(session, "soumu", CONSULTATION.replace("意見募集", "意見公募"))
    assert (first.version, again.version) == (1, 1)
    procedure = await service.get_procedure(session, "soumu", "test-consultation")
    assert procedure.current_version is None
    with pytest.raises(NotFound):
        await service.effective_definition(session, procedure)

    await service.publish(session, procedure, 1)
    definition = await service.effective_definition(session, procedure)
    assert definition.title.ja == "メタバース等の利活用に関する意見公募"


async def test_a_published_version_never_changes(session: AsyncSession) -> None:
    await service.save_draft(session, "soumu", CONSULTATION)
    procedure = await service.get_procedure(session, "soumu", "test-consultation")
    await service.publish(session, procedure, 1)
    with pytest.raises(InvalidInput, match="already published"):
        await service.publish(session, procedure, 1)
    second = await service.save_draft(
        session, "soumu", CONSULTATION.replace("2027-01-31", "2027-01-30")
    )
    assert second.version == 2
    versions = await service.list_versions(session, procedure)
    assert [(v.version, v.status) for v in versions] == [(1, "published"), (2, "draft")]
    assert versions[0].definition["closes"] == "2027-01-31"


async def test_roll_back_to_an_earlier_published_version(session: AsyncSession) -> None:
    await service.save_draft(session, "soumu", CONSULTATION)
    procedure = await service.get_procedure(session, "soumu", "test-consultation")
    await service.publish(session, procedure, 1)
    await service.save_draft(session, "soumu", CONSULTATION.replace("2027-01-31", "2027-01-30"))
    with pytest.raises(InvalidInput, match="never published"):
        await service.roll_back_to(session, procedure, 2)
    await service.publish(session, procedure, 2)
    await service.roll_back_to(session, procedure, 1)
    definition = await service.effective_definition(session, procedure)
    assert str(definition.closes) == "2027-01-31"
    with pytest.raises(NotFound):
        await service.roll_back_to(session, procedure, 9)


async def test_a_definition_is_saved_only_for_its_owner(session: AsyncSession) -> None:
    with pytest.raises(InvalidInput) as raised:
        await service.save_draft(session, "mhlw", CONSULTATION)
    assert raised.value.field == "owner"


async def test_a_bad_definition_is_refused_with_its_lines(session: AsyncSession) -> None:
    with pytest.raises(service.DefinitionError) as raised:
        await service.save_draft(
            session, "soumu", CONSULTATION.replace("type: yes_no", "type: yesno")
        )
    assert "(line " in str(raised.value)


async def published_template(session: AsyncSession) -> service.Procedure:
    await service.save_draft(session, "soumu", MOVING)
    template = await service.get_procedure(session, "soumu", "test-moving")
    await service.publish(session, template, 1)
    return template


async def test_a_municipality_adopts_a_template_and_localises_it(session: AsyncSession) -> None:
    template = await published_template(session)
    contact = {"ja": "札幌市 区役所 戸籍住民課", "en": "Sapporo City, ward office"}
    extra = {"ja": "区役所の窓口でも手続きできます。"}
    adopted = await service.adopt_template(
        session, "011002", template, {"contact": contact, "extra_guidance": extra}
    )
    definition = await service.effective_definition(session, adopted)
    assert definition.contact is not None
    assert definition.contact.ja == "札幌市 区役所 戸籍住民課"
    assert definition.guidance is not None
    assert definition.guidance.ja == "区役所の窓口でも手続きできます。"
    assert [p.id for p in definition.pages] == ["new_address", "household"]

    # the ministry's next version reaches every adopter at once
    await service.save_draft(session, "soumu", MOVING.replace("14日以内", "14日以内（必ず）"))
    await service.publish(session, template, 2)
    changed = await service.effective_definition(session, adopted)
    assert "（必ず）" in changed.summary.ja


async def test_only_templates_and_local_governments_and_known_keys(session: AsyncSession) -> None:
    template = await published_template(session)
    with pytest.raises(InvalidInput) as raised:
        await service.adopt_template(session, "digital", template, {})
    assert raised.value.field == "adopter"
    with pytest.raises(InvalidInput) as raised:
        await service.adopt_template(session, "011002", template, {"questions": []})
    assert raised.value.field == "localisation.questions"
    await service.save_draft(session, "soumu", CONSULTATION)
    consultation = await service.get_procedure(session, "soumu", "test-consultation")
    await service.publish(session, consultation, 1)
    with pytest.raises(InvalidInput) as raised:
        await service.adopt_template(session, "011002", consultation, {})
    assert raised.value.field == "template"
