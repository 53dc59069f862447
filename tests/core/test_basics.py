"""Identifiers, text normalisation and language choice."""

import json
import logging
import time

from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.i18n import parse_language
from madoguchi.core.ids import uuid7
from madoguchi.core.logs import JsonFormatter
from madoguchi.core.text import fold_width, nfc, search_key, strip_separators


def test_uuid7_has_version_variant_and_time_order() -> None:
    first = uuid7()
    time.sleep(0.002)
    second = uuid7()
    assert (first.version, first.variant) == (7, "specified in RFC 4122")
    assert first < second
    assert abs((first.int >> 80) - time.time_ns() // 1_000_000) < 5_000


def test_search_key_folds_kana_width_and_case() -> None:
    assert search_key("さっぽろ") == search_key("ｻｯﾎﾟﾛ") == search_key("サッポロ") == "サッポロ"
    assert search_key(" Digital  Agency ") == "digitalagency"
    assert fold_width("０６０") == "060"


@given(st.text())
def test_normalising_twice_changes_nothing(text: str) -> None:
    assert nfc(nfc(text)) == nfc(text)
    assert search_key(search_key(text)) == search_key(text)


def test_separators_people_type_are_dropped() -> None:
    assert strip_separators("〒０６０ー０００１") == "0600001"
    assert strip_separators(" 060 - 0001 ") == "0600001"


def test_language_from_headers_and_cookies() -> None:
    assert parse_language("en-GB,en;q=0.9,ja;q=0.8") == "en"
    assert parse_language("ja-JP") == "ja"
    assert parse_language("fr, de") is None
    assert parse_language(None) is None


def test_json_logs_are_one_object_per_line_with_extras() -> None:
    record = logging.makeLogRecord(
        {
            "name": "madoguchi",
            "levelname": "INFO",
            "msg": "loaded %d",
            "args": (3,),
            "tenant": "011002",
        }
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "loaded 3"
    assert entry["tenant"] == "011002"
    assert entry["level"] == "info"
