"""Defence in depth: a My Number that reached a log record anyway is masked in what is written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from madoguchi.core.logs import app_handler, configure_logging
from madoguchi.core.settings import Settings
from tests.support.my_number_watch import MyNumberWatch, my_numbers_in

VALID = "123456789018"
FULL_WIDTH = "１２３４５６７８９０１８"


@pytest.fixture(params=["text", "json"])
def written(request: pytest.FixtureRequest) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own (not seen by the suite's watch) writing through the app's handler."""
    stream = io.StringIO()
    logger = logging.getLogger(f"madoguchi.test.masking.{request.param}")
    logger.addHandler(app_handler(Settings(log_format=request.param), stream))
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.handlers.clear()
    logger.propagate = True


def test_a_number_in_the_message_or_its_arguments_is_masked(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = written
    logger.info("typed %s", VALID)
    logger.warning(f"typed {FULL_WIDTH} in full width")
    logger.info("reference %s", {"number": VALID, "other": "123456789012"})
    text = stream.getvalue()
    assert my_numbers_in(text) == 0
    assert "●●●●●●●●9018" in text and "123456789012" in text  # a wrong check digit is kept


def test_a_number_in_a_traceback_or_an_extra_field_is_masked(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = written
    try:
        raise ValueError(f"bad value {VALID}")
    except ValueError:
        logger.exception("failed", extra={"typed": VALID})
    logger.info("stack", stack_info=True, extra={"note": f"x {VALID} y"})
    text = stream.getvalue()
    assert "ValueError: bad value ●●●●●●●●9018" in text
    assert my_numbers_in(text) == 0


def test_json_lines_stay_json(written: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = written
    logger.info("typed %s", VALID)
    line = stream.getvalue().strip()
    if line.startswith("{"):
        assert json.loads(line)["message"] == "typed ●●●●●●●●9018"


def test_configuring_logging_again_keeps_other_handlers() -> None:
    """The suite's own watch (and pytest's capture) must survive every app the tests create."""
    root = logging.getLogger()
    watch = MyNumberWatch()
    root.addHandler(watch)
    try:
        configure_logging(Settings())
        configure_logging(Settings())
        assert watch in root.handlers
        assert sum(type(h).__name__ == "_AppHandler" for h in root.handlers) == 1
    finally:
        root.removeHandler(watch)
