"""Conditions over answers and computed values: evaluated with unknown values made false."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from madoguchi.procedures.definition import All, AnyOf, Compare, Condition, Not

Values = Mapping[str, Any]


def evaluate(condition: Condition, values: Values) -> bool:
    """Whether ``condition`` holds for ``values`` (answers and computed values by id)."""
    if isinstance(condition, All):
        return all(evaluate(part, values) for part in condition.all)
    if isinstance(condition, AnyOf):
        return any(evaluate(part, values) for part in condition.any)
    if isinstance(condition, Not):
        return not evaluate(condition.not_, values)
    return _compare(condition, _compared(values.get(condition.answer)))


def _compared(value: Any) -> Any:
    """What a condition looks at: a choice offering "other" is stored as ``{"value", "other"}``,
    and its conditions are about the options chosen (``other`` among them), not the text."""
    if isinstance(value, dict) and "value" in value and set(value) <= {"value", "other"}:
        return value["value"]
    return value


def is_answered(value: Any) -> bool:
    """Present and not empty: not None, not blank, not an empty list, not a dict of blanks."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, dict):
        return any(is_answered(part) for part in value.values())
    if isinstance(value, list | tuple):
        return len(value) > 0
    return True


def holds(condition: Condition | None, values: Values) -> bool:
    """Whether something with this ``show_if`` (or none) is shown."""
    return condition is None or evaluate(condition, values)


def _compare(compare: Compare, value: Any) -> bool:
    operator = compare.operator
    wanted = getattr(compare, operator)
    if operator == "answered":
        return is_answered(value) is bool(wanted)
    return is_answered(value) and _TESTS[operator](value, wanted)


def _equal(value: Any, wanted: Any) -> bool:
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted  # True is not 1, and "yes" is not True
    if _is_number(value) or _is_number(wanted):
        left, right = as_number(value), as_number(wanted)
        if left is not None and right is not None:
            return left == right
    return bool(_plain(value) == _plain(wanted))


def _includes(value: Any, wanted: Any) -> bool:
    return isinstance(value, list) and any(_equal(item, wanted) for item in value)


def _order(value: Any, wanted: Any) -> int | None:
    """-1, 0 or 1 between two numbers (or numeric strings) or two dates; None between others."""
    left, right = as_number(value), as_number(wanted)
    if left is not None and right is not None:
        return (left > right) - (left < right)
    first, second = as_date(value), as_date(wanted)
    if first is not None and second is not None:
        return (first > second) - (first < second)
    return None


def _ordered(test: Callable[[int], bool]) -> Callable[[Any, Any], bool]:
    def check(value: Any, wanted: Any) -> bool:
        order = _order(value, wanted)
        return order is not None and test(order)

    return check


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": _equal,
    "not_equals": lambda value, wanted: not _equal(value, wanted),
    "includes": _includes,
    "greater_than": _ordered(lambda order: order > 0),
    "less_than": _ordered(lambda order: order < 0),
    "at_least": _ordered(lambda order: order >= 0),
    "at_most": _ordered(lambda order: order <= 0),
}
_NUMERIC = re.compile(r"-?\d+(\.\d+)?", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def as_number(value: Any) -> Decimal | None:
    """A number, or a string a parser wrote one as ("12", "-3.50"), exactly; None for others."""
    if _is_number(value):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return number if number.is_finite() else None
    if isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
        return Decimal(value.strip())
    return None


def as_date(value: Any) -> dt.date | None:
    """A date, or an ISO date string ("2026-04-01"); None for others."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _plain(value: Any) -> Any:
    """A value as compared for equality: text stripped, dates as ISO strings, at any depth."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
