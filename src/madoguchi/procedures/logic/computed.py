"""Computed values: sums, ages and counts over answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from madoguchi.procedures.definition import Computed, Definition
from madoguchi.procedures.logic.conditions import Values, as_date, as_number


def computed_values(
    definition: Definition, answers: Values, today: dt.date
) -> dict[str, int | str]:
    """The definition's computed values over ``answers`` (prune them first for a receipt).

    A sum counts missing and non-numeric answers as 0; it is an int when every part is an int,
    else an exact decimal string. An age is left out when the date of birth is unknown or later
    than ``today``.
    """
    values: dict[str, int | str] = {}
    for computed in definition.computed:
        value = _compute(computed, {**answers, **values}, today)
        if value is not None:
            values[computed.id] = value
    return values


def _compute(computed: Computed, values: Values, today: dt.date) -> int | str | None:
    if computed.sum is not None:
        return _sum([values.get(name) for name in computed.sum])
    if computed.age_of is not None:
        return _age(values.get(computed.age_of), today)
    items = values.get(computed.count_of or "")
    return len(items) if isinstance(items, list) else 0


def _sum(parts: list[Any]) -> int | str:
    total, whole = Decimal(0), True
    for part in parts:
        number = as_number(part)
        if number is not None:
            total += number
            whole = whole and isinstance(part, int)
    return int(total) if whole else str(total)


def _age(value: Any, today: dt.date) -> int | None:
    """Full years during the day ``today``.

    Comparing (month, day) never builds a 29 February in a common year: someone born on 29
    February is a year older from 1 March, as the Civil Code (art. 143) counts a year that ends in a
    month without that day.
    """
    born = as_date(value)
    if born is None or born > today:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def with_computed(definition: Definition, answers: Values, today: dt.date) -> dict[str, Any]:
    """What conditions see: the answers and the computed values over them."""
    return {**answers, **computed_values(definition, answers, today)}
