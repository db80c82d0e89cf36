"""_native.parse_json: how every JSON body that is not yet known to be an envelope is read
(callbacks.read_json_object): the core's parser, its limits and its refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from medpay_core import _native
from medpay_core.errors import EnvelopeError


def test_numbers_keep_their_literal_and_str_and_bytes_read_alike():
    for text in ('{"a": 12.30, "b": [1, true, null], "c": "张三"}',
                 '{"a": 12.30, "b": [1, true, null], "c": "张三"}'.encode()):
        assert _native.parse_json(text) == {"a": Decimal("12.30"), "b": [1, True, None], "c": "张三"}
    assert str(_native.parse_json(b"[1.50]")[0]) == "1.50"


@pytest.mark.parametrize("text, says", [
    (b'{"a":1,"a":2}', "duplicate"),
    (b'{"a":NaN}', "at byte 5"),
    (b"[" * 65 + b"]" * 65, "deeper than 64"),
    (b'{"a":1} x', "at byte"),
    (b"\xff", "UTF-8"),
])
def test_hostile_text_is_an_envelope_error_naming_the_body(text, says):
    with pytest.raises(EnvelopeError) as exc:
        _native.parse_json(text)
    assert str(exc.value).startswith("body: ") and says in str(exc.value)


def test_the_limits_are_arguments():
    with pytest.raises(EnvelopeError, match="body: "):
        _native.parse_json(b'"' + b"x" * 100 + b'"', max_bytes=50)
    assert _native.parse_json(b"[[1]]", max_depth=2) == [[1]]
    with pytest.raises(EnvelopeError):
        _native.parse_json(b"[[[1]]]", max_depth=2)


def test_anything_but_str_or_bytes_is_a_type_error():
    with pytest.raises(TypeError):
        _native.parse_json({"a": 1})  # type: ignore[arg-type]
