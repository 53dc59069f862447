"""Excel templates as online forms, and responses back into the templates.

``draft_from_workbook`` reads an .xlsx template (see ``reading`` for how a sheet's style is
detected and ``guessing`` for how a question's type is chosen) into a draft definition with notes
on whatever it could not interpret; ``fill_template`` writes responses into the template's layout.
"""

from madoguchi.procedures.excel.drafting import Draft, draft_from_workbook, draft_yaml
from madoguchi.procedures.excel.filling import fill_template
from madoguchi.procedures.excel.reading import WorkbookError

__all__ = ["Draft", "WorkbookError", "draft_from_workbook", "draft_yaml", "fill_template"]
