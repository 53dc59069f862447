"""The suite-wide guard against My Numbers in logs finds them, and only them."""

import logging

from tests.support.my_number_watch import MyNumberWatch, my_numbers_in

VALID = "123456789018"  # passes the check digit


def test_a_valid_number_is_found_in_half_or_full_width() -> None:
    assert my_numbers_in(f"applicant {VALID} submitted") == 1
    assert my_numbers_in("１２３４５６７８９０１８") == 1


def test_other_digits_are_not_my_numbers() -> None:
    assert my_numbers_in("123456789012") == 0  # wrong check digit
    assert my_numbers_in(f"9{VALID}") == 0  # thirteen digits: a corporate number, not this
    assert my_numbers_in("2026-11-28 06:30:00,123 4567") == 0


def test_the_watch_keeps_where_not_what() -> None:
    watch = MyNumberWatch()
    logger = logging.getLogger("madoguchi.test.watch")
    logger.addHandler(watch)
    logger.propagate = False  # the suite's own watch must not see this deliberate leak
    try:
        logger.warning("number %s", VALID)
        logger.warning("nothing here")
    finally:
        logger.removeHandler(watch)
        logger.propagate = True
    assert len(watch.leaks) == 1 and VALID not in watch.leaks[0]
