"""Staff pages of procedures: versions (publish, roll back), the draft's YAML, Excel uploads.

Viewers of the body read its versions; drafting, publishing and rolling back need a supervisor
(``identity.staff_access``). Every route works on the procedures of the body in its path only
(``/staff/bodies/{code}/procedures/…``).

* ``versions``: every version with its status, publishing a draft, making an earlier published
  version current again, and editing the draft's YAML.
* ``from_excel``: an uploaded workbook drafted with ``procedures.excel`` (as ``madoguchi
  procedures from-xlsx`` does), reviewed and edited, then saved as a draft of the body.
* ``editing``: what both share: the YAML form, whose problems come back with their line.
"""

from fastapi import APIRouter

from madoguchi.procedures.staff_pages.from_excel import router as from_excel_router
from madoguchi.procedures.staff_pages.versions import router as versions_router

router = APIRouter(include_in_schema=False)
router.include_router(versions_router)
router.include_router(from_excel_router)

__all__ = ["router"]
