"""Shared machinery of the typed transaction models: plain pydantic v2.

Every model is a pydantic model whose fields are declared with the helpers below
(:func:`text`, :func:`amount`, :func:`integer`, :func:`flag`, :func:`nested`,
:func:`items`), one per row of the spec's tables. Each helper gives pydantic the row as
it is written (wire name, length, precision, required, value set, format), so that:

- the constructor, ``model_validate``, ``model_validate_json``, ``TypeAdapter`` and
  FastAPI all run the same checks and raise the same ``pydantic.ValidationError``;
- the JSON schema shows the required fields, lengths, precisions and value sets;
- mypy sees every field with its Python type.

>>> from medpay_core.models import RevokeRequest
>>> import pydantic
>>> try:
...     RevokeRequest(pay_ord_id="ORD1", id_type="0" * 4)
... except pydantic.ValidationError as e:
...     sorted({(x["loc"][0], x["type"]) for x in e.errors()})[:3]
[('idNo', 'missing'), ('id_type', 'string_too_long'), ('orgCodg', 'missing')]

medpay's own boundary (the client, the sandbox, the callbacks) calls :func:`validate`,
which raises :class:`medpay_core.errors.ValidationError` (a ``MedpayError``) whose
``errors`` name each field by its wire name with one of these rule ids:

``required``       a required field is missing (or ``""`` / an empty list)
``required_if``    a field the notes make conditional is missing (e.g. ``initRxOrd``)
``one_of_required`` neither of two fields is given (``ecToken`` / ``payAuthNo``)
``unknown_field``  a request field the table does not have (a typo)
``type``           wrong kind of value (e.g. a list for a string, ``"abc"`` for a number)
``float_refused``  a float for a number in a request; use ``Decimal`` or ``str``
``max_length``     longer than the table's length, in characters
``integer_digits`` too many digits before the decimal point
``decimal_places`` too many digits after the decimal point
``enum``           not one of the values the spec lists
``range``          below zero where the notes allow no negative amount (a deposit)
``format``         a date/time, coordinate or JSON text in the wrong format
``sum_mismatch``, ``mismatch``, ``duplicate``   cross-field rules of a table's notes

Direction matters. Models the institution builds (requests, the 6302 reply) are strict:
an unknown field is refused, a float amount is refused (in JSON too: write amounts as
strings such as ``"25.80"`` or as integers) and an amount keeps exactly the decimals
written. Models the center builds (answers, 6204/6302 notices, ``extData``) keep unknown
fields and are lenient about the shape the center sends (numbers as strings, strings as
numbers, ``"true"``) but still end up typed: ``Decimal`` amounts, ``str`` codes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring
from typing import (Any, ClassVar, Dict, List, Optional, Tuple, Type,
                    TypeVar, Union)

from pydantic import (AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr,
                      SerializerFunctionWrapHandler, ValidationInfo, ValidatorFunctionWrapHandler,
                      WrapValidator, model_serializer, model_validator)
from pydantic import ValidationError as PydanticValidationError
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError, PydanticUndefined

from .._native import parse_json
from ..errors import EnvelopeError, FieldError, ValidationError
from ..ids import to_beijing
from ..masking import mask_value

__all__ = [
    "WireModel",
    "InboundModel",
    "ExtModel",
    "ExtData",
    "text",
    "amount",
    "integer",
    "flag",
    "nested",
    "items",
    "err",
    "get",
    "validate",
    "field_errors",
    "compact_json",
]

M = TypeVar("M", bound="WireModel")


def err(field: str, rule: str, message: str) -> FieldError:
    """One entry of ``ValidationError.errors`` (the cross-field rules return these)."""
    return {"field": field, "rule": rule, "message": message}


# --------------------------------------------------------------------------- row rules

# Date/time formats: name -> (spec notation, strptime format, shape regex).
_FORMATS: Dict[str, Tuple[str, str, str]] = {
    "datetime": ("yyyy-MM-dd HH:mm:ss", "%Y-%m-%d %H:%M:%S",
                 r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"),
    "date": ("yyyy-MM-dd", "%Y-%m-%d", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    "compact_datetime": ("yyyyMMddHHmmss", "%Y%m%d%H%M%S", r"^[0-9]{14}$"),
}
_LATLNG_SHAPE = r"^-?[0-9]{1,3}(\.[0-9]+)?,-?[0-9]{1,2}(\.[0-9]+)?$"
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _fail(rule: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(rule, message)


class _Row:
    """The checks of one table row that pydantic's own constraints do not express.

    ``inbound`` (lenient, for what the center sends) is set by the model class when it is
    created (see :meth:`WireModel.__init_subclass__`): the same row helper serves both
    directions."""

    def __init__(self, kind: str, *, required: bool = False, enum: Optional[Tuple[str, ...]] = None,
                 fmt: Optional[str] = None, scale: Optional[int] = None,
                 digits: Optional[int] = None, max_length: Optional[int] = None,
                 nonnegative: bool = False):
        self.kind = kind
        self.required = required
        self.enum = enum
        self.fmt = fmt
        self.scale = scale
        self.digits = digits
        self.max_length = max_length
        self.nonnegative = nonnegative
        self.inbound = False
        # An amount's literal: at most precision - scale digits before the point and scale
        # after it. The JSON schema's pattern of a string amount, and the fast path's check.
        self.literal: Optional[re.Pattern[str]] = None
        if kind == "amount" and digits is not None and scale is not None:
            self.literal = re.compile(rf"^{'' if nonnegative else '-?'}[0-9]{{1,{digits - scale}}}"
                                      rf"(\.[0-9]{{1,{scale}}})?$")

    def validate(self, v: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Around pydantic's own checks of the field's type and constraints."""
        if self.kind == "object":
            return _nested(self, v, handler)
        return self.after(handler(self.before(v)))

    # -- the field's validator
    def validator(self) -> Any:
        """The field's pydantic validator, for the row's direction. Where after() has
        nothing to check (all but an object, a request's amount, a deposit), before()
        alone runs, as a BeforeValidator: cheaper than wrapping pydantic's checks. A fast
        path goes first where the kind has one."""
        if self.kind == "object":
            return WrapValidator(self.validate)
        if self.kind == "amount" and (self.nonnegative or not self.inbound):
            return WrapValidator(self._fast_amount)
        fast = {"text": self._fast_text if self.max_length is not None else self.before,
                "amount": self._fast_decimal, "integer": self._fast_integer,
                "flag": self._fast_flag}
        return BeforeValidator(fast.get(self.kind, self.before))

    # The fast paths: a value of the field's plain type that before() (and after()) would
    # return unchanged is returned at once; anything else (a bad value above all) takes
    # the full path, which gives the errors.
    def _fast_text(self, v: Any) -> Any:
        # Within the length: the formats' check is cached, for short texts only.
        if (type(v) is str and 0 < len(v) <= self.max_length  # type: ignore[operator]
                and (self.enum is None or v in self.enum)
                and (self.fmt is None or _format_ok(self.fmt, v))):
            return v
        return self.before(v)

    def _fast_decimal(self, v: Any) -> Any:
        return v if type(v) is Decimal else self.before(v)

    def _fast_integer(self, v: Any) -> Any:
        return v if type(v) is int else self.before(v)

    def _fast_flag(self, v: Any) -> Any:
        return v if type(v) is bool else self.before(v)

    def _fast_amount(self, v: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        d = v if type(v) is Decimal else self.before(v)  # as Decimal where it can be (or errors)
        if type(d) is Decimal and self._fits(d):
            return d
        return self.after(handler(d))

    def _fits(self, d: Decimal) -> bool:
        """Whether ``d`` passes pydantic's max_digits/decimal_places and :meth:`after`
        unchanged. ``str(d)`` has no exponent only if the exponent is at most 0 (and the
        number not tiny): then it shows every decimal as written, the integer digits and
        the sign."""
        assert self.literal is not None
        return self.literal.fullmatch(str(d)) is not None

    # -- before pydantic's own type check: shapes, "" as absent, floats
    def before(self, v: Any) -> Any:
        if v is None or (isinstance(v, str) and v == ""):
            # "" counts as absent: the sign text drops empty strings, so the center never
            # sees it.
            if self.required:
                raise _fail("missing", "Field required (null and an empty string count as absent)")
            return None
        return getattr(self, "_before_" + self.kind)(v)

    def _before_text(self, v: Any) -> Any:
        if self.fmt in _FORMATS and isinstance(v, (date, datetime)):
            if self.fmt == "date" or isinstance(v, datetime):
                # The spec's times are Beijing time: an aware datetime is converted.
                return (to_beijing(v) if isinstance(v, datetime) else v).strftime(_FORMATS[self.fmt][1])
        if self.inbound and isinstance(v, int) and not isinstance(v, bool):
            v = str(v)  # a code the center sent as a number
        if isinstance(v, str):  # value set and format before the length: the clearer error
            if self.enum is not None and v not in self.enum:
                raise _fail("enum", "must be one of " + ", ".join(self.enum))
            if self.fmt:
                _check_format(self.fmt, v)
        return v

    def _before_amount(self, v: Any) -> Any:
        if isinstance(v, bool):
            raise _fail("decimal_type", "must be a number, not a boolean")
        if isinstance(v, float):
            if not self.inbound:
                raise _fail("float_refused", "floats are refused (binary rounding); use Decimal "
                                             "or str, e.g. Decimal('12.30') or '12.30'")
            if v != v or v in (float("inf"), float("-inf")):
                raise _fail("finite_number", "must be a finite number")
            return Decimal(repr(v))  # the shortest text that reads back as this float
        if isinstance(v, str):
            s = v.strip() if self.inbound else v
            if not _NUMBER.fullmatch(s):
                raise _fail("decimal_parsing", "must be a decimal number such as '12.30'")
            return Decimal(s)
        return v

    def _before_integer(self, v: Any) -> Any:
        if isinstance(v, bool):
            raise _fail("int_type", "must be a whole number, not a boolean")
        if isinstance(v, float) and not self.inbound:
            raise _fail("float_refused", "floats are refused; use int or str")
        if isinstance(v, str) and self.inbound:
            return v.strip()
        if isinstance(v, Decimal) and v.is_finite() and v == v.to_integral_value():
            return int(v)
        return v

    def _before_flag(self, v: Any) -> Any:
        if isinstance(v, bool):
            return v
        if self.inbound and isinstance(v, str) and v.strip().lower() in ("true", "false"):
            return v.strip().lower() == "true"
        raise _fail("bool_type", "must be true or false")

    def _before_list(self, v: Any) -> Any:
        if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, (list, tuple)):
            raise _fail("list_type", "must be a list")
        return [_as_mapping(x) for x in v]

    # -- after pydantic's own checks: decimals as written
    def after(self, v: Any) -> Any:
        if v is None:
            return None
        if self.nonnegative and v < 0:
            raise _fail("range", "must not be negative")
        if self.kind == "amount" and not self.inbound:
            exp = v.as_tuple().exponent
            assert isinstance(exp, int) and self.scale is not None
            if -exp > self.scale:
                # pydantic counts 1.500 as 1.5; a request sends the text as written.
                raise _fail("decimal_places", f"at most {self.scale} decimal places; quantize it first")
            if exp > 0:  # Decimal('1E+2') -> Decimal('100'): plain wire text
                v = v.quantize(Decimal(1))
        return v

    # -- the JSON schema tells what is checked
    def schema(self, s: Dict[str, Any]) -> None:
        branches = s.get("anyOf", ())
        optional = any(b.get("type") == "null" for b in branches)
        target = s
        if optional:
            target = next(b for b in branches if b.get("type") != "null")
        if self.enum is not None:
            target["enum"] = list(self.enum)
        if self.fmt in _FORMATS:
            target["pattern"] = _FORMATS[self.fmt][2]
            target["description"] = _FORMATS[self.fmt][0]
        elif self.fmt == "latlng":
            target["pattern"] = _LATLNG_SHAPE
        if self.kind == "amount":
            assert self.digits is not None and self.scale is not None and self.literal is not None
            literal = {"type": "string", "pattern": self.literal.pattern}
            # A request refuses fractional JSON numbers (binary floats): a string or an
            # integer. An answer may carry any JSON number.
            number: Dict[str, Any] = {"type": "number"} if self.inbound else {"type": "integer"}
            if self.nonnegative:
                number["minimum"] = 0
            spec = {"anyOf": [literal, number], "max_digits": self.digits,
                    "decimal_places": self.scale}
            s.pop("type", None)
            s["anyOf"] = [spec, {"type": "null"}] if optional else spec["anyOf"]
            if not optional:
                s.update(max_digits=self.digits, decimal_places=self.scale)


def _check_format(fmt: str, v: str) -> None:
    if _format_ok.__wrapped__(fmt, v):  # any text: not cached
        return
    if fmt == "latlng":
        raise _fail("format", "must be 'longitude,latitude' such as '118.096435,24.485407' "
                              "('0,0' when location failed)")
    raise _fail("format", f"must be a valid {_FORMATS[fmt][0]}")


# Cached for the fast path (texts within the field's length only): the lines of an upload
# mostly repeat a few timestamps, and strptime is slow.
@functools.lru_cache(maxsize=4096)
def _format_ok(fmt: str, v: str) -> bool:
    if fmt == "latlng":
        if not re.fullmatch(_LATLNG_SHAPE, v):
            return False
        lng, _, lat = v.partition(",")
        return abs(float(lng)) <= 180 and abs(float(lat)) <= 90
    _, pattern, shape = _FORMATS[fmt]
    if not re.fullmatch(shape, v):
        return False
    try:
        datetime.strptime(v, pattern)
    except ValueError:
        return False
    return True


def _as_mapping(v: Any) -> Any:
    """Another table's model given where a mapping is expected: its wire form."""
    return v.to_wire() if isinstance(v, WireModel) else v


def _field(wire: str, title: str, row: _Row, aliases: Tuple[str, ...] = (), **constraints: Any) -> Any:
    info: FieldInfo = Field(
        default=PydanticUndefined if row.required else None,
        validation_alias=AliasChoices(wire, *aliases) if aliases else wire,
        serialization_alias=wire,
        description=title or None,
        json_schema_extra=lambda s: row.schema(s),
        **constraints,
    )
    info.metadata.append(row.validator())
    return info


def text(wire: str, max_length: Optional[int], title: str = "", *, required: bool = False,
         enum: Optional[Tuple[str, ...]] = None, fmt: Optional[str] = None,
         aliases: Tuple[str, ...] = ()) -> Any:
    """A 字符型 field: a ``str`` of at most ``max_length`` characters.

    ``enum`` restricts it to the values the spec lists; ``fmt`` is one of ``datetime``
    (``yyyy-MM-dd HH:mm:ss``), ``date`` (``yyyy-MM-dd``), ``compact_datetime``
    (``yyyyMMddHHmmss``) or ``latlng`` (``118.096435,24.485407``); a ``datetime``/``date``
    object is accepted for the date formats and stored as the wire text.

    >>> from medpay_core.models import RefundRequest
    >>> RefundRequest.model_json_schema()["properties"]["refdType"]["enum"]
    ['ALL', 'CASH', 'HI']
    """
    row = _Row("text", required=required, enum=enum, fmt=fmt, max_length=max_length)
    return _field(wire, title, row, aliases, max_length=max_length,
                  min_length=1 if required else None)


def amount(wire: str, precision: int, scale: int, title: str = "", *,
           required: bool = False, aliases: Tuple[str, ...] = (), nonnegative: bool = False) -> Any:
    """A 数值型 ``precision,scale`` field (``16,2``: at most 14 integer digits and 2
    decimals), held as ``Decimal``. ``aliases``: other input names accepted;
    ``nonnegative``: the notes allow no amount below zero (a deposit).

    >>> from medpay_core.models import CashierEncData
    >>> CashierEncData.model_json_schema()["properties"]["deposit"]["anyOf"][0]["max_digits"]
    16
    >>> print(CashierEncData.model_json_schema()["properties"]["deposit"]["anyOf"][0]["anyOf"][0]["pattern"])
    ^[0-9]{1,14}(\\.[0-9]{1,2})?$

    """
    row = _Row("amount", required=required, scale=scale, digits=precision, nonnegative=nonnegative)
    return _field(wire, title, row, aliases, max_digits=precision, decimal_places=scale)


def integer(wire: str, digits: int, title: str = "", *, required: bool = False) -> Any:
    """A 数值型 field without decimals (length ``2``: at most 2 digits), held as ``int``.

    >>> from medpay_core.models import DiseInfo
    >>> DiseInfo.model_json_schema()["properties"]["diagSrtNo"]["maximum"]
    99
    """
    row = _Row("integer", required=required, digits=digits)
    return _field(wire, title, row, ge=-(10 ** digits - 1), le=10 ** digits - 1)


def flag(wire: str, title: str = "", *, required: bool = False) -> Any:
    """A 布尔型 field.

    >>> from medpay_core.models import RevokeResponse
    >>> RevokeResponse.from_wire({"success": "true"}).success
    True
    """
    return _field(wire, title, _Row("flag", required=required))


def nested(wire: str, title: str = "", *, required: bool = False,
           max_length: Optional[int] = None) -> Any:
    """An ``expContent``/``extData`` object. It is accepted as the sub-model, a mapping
    or the JSON text of the object (as centers and their SDKs send it), and checked as the
    sub-model either way. ``to_wire`` gives it in the form it came in: the JSON text
    verbatim (it is signed as that very string, so it must not be re-written), a dict
    otherwise. ``max_length`` (``expContent`` is 字符型 4000) applies to that text, or to
    the compact JSON text of a dict.

    >>> from medpay_core.models import RefundResponse
    >>> RefundResponse.from_wire({"refdSn": "R1", "refStatus": "SUCC",
    ...     "extData": '{"a":1}'}).to_wire()["extData"]
    '{"a":1}'
    """
    return _field(wire, title, _Row("object", required=required, max_length=max_length))


def items(wire: str, title: str = "", *, required: bool = False) -> Any:
    """A list of sub-models (``diseinfoList``, ``feedetailList``); a required one needs at
    least one entry.

    >>> from medpay_core.models import FeeUploadRequest
    >>> FeeUploadRequest.model_json_schema()["properties"]["diseinfoList"]["minItems"]
    1
    """
    row = _Row("list", required=required)
    return _field(wire, title, row, min_length=1 if required else None)


# --------------------------------------------------------------------------- JSON text

def _parse_json(text: str) -> Any:
    """A sub-object's JSON text, read by the core's parser (the one JSON reader of the
    package: number literals kept, duplicate keys, NaN and deep nesting refused)."""
    try:
        return parse_json(text)
    except EnvelopeError:
        raise _fail("format", "must be a JSON object (the text is not JSON, or has a "
                              "duplicate key, NaN or too deep nesting)") from None


def _nested(row: _Row, v: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """An ext object from a model, a mapping or its JSON text; the text is kept for the wire."""
    text = v if isinstance(v, str) else (_verbatim(v) if isinstance(v, WireModel) else None)
    if text == "":
        return row.before(text)
    if text is not None:
        parsed = _parse_json(text)
        if not isinstance(parsed, dict):
            raise _fail("dict_type", "must be an object or the JSON text of one")
        obj = handler(parsed)
        obj._medpay_text = (text, obj.to_wire())
    elif isinstance(v, WireModel):
        try:
            obj = handler(v)  # this table's sub-model: kept as it is
        except PydanticValidationError:
            obj = handler(v.to_wire())  # another table's: checked as this one
    else:
        obj = handler(v)
    if obj is not None and row.max_length is not None:
        kept = _verbatim(obj)
        size = len(kept) if kept is not None else _json_length(obj.to_wire(), row.max_length)
        if size > row.max_length:
            got = f"got {size}" if size <= 10 * row.max_length else "got far more"
            raise _fail("string_too_long", f"its JSON text is at most {row.max_length} characters, {got}")
    return obj


def _json_length(value: Any, limit: int) -> int:
    """The length of ``compact_json(value)``, counted without writing it and given up once
    past ``limit``: ``Decimal('1E+999999999')`` would be a billion characters of text."""
    total, todo = 0, [value]
    while todo and total <= limit:
        v = todo.pop()
        if type(v) is str:  # the most common value first
            total += len(encode_basestring(v))
        elif isinstance(v, Decimal) and v.is_finite():
            sign, digits, exp = v.as_tuple()
            assert isinstance(exp, int)
            n = len(digits)
            total += sign + (n + exp if exp >= 0 else n + 1 if n > -exp else 2 - exp)
        elif isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 4 * limit + 64:
            total += limit + 1  # more digits than the limit; str() of it may not even be allowed
        elif isinstance(v, Mapping):
            total += 1 + max(len(v), 1)  # the braces and the separators
            for k, x in v.items():
                total += len(encode_basestring(str(k))) + 1
                todo.append(x)
        elif isinstance(v, (list, tuple)):
            total += 1 + max(len(v), 1)
            todo.extend(v)
        else:
            total += len(compact_json(v))
    return total


def _verbatim(obj: "WireModel") -> Optional[str]:
    """The JSON text a sub-model was read from; None if it was not, or if a field was
    changed since (the text no longer says what the model holds: it goes out as a dict)."""
    kept = _kept(obj)
    if kept is None:
        return None
    text, wire = kept
    return text if obj.to_wire() == wire else None


def _kept(obj: "WireModel") -> Optional[Tuple[str, Dict[str, Any]]]:
    """``obj._medpay_text``, read from pydantic's store of private attributes: the
    attribute itself is only found after a failed lookup, which is slow."""
    private = obj.__pydantic_private__
    return None if private is None else private.get("_medpay_text")


def compact_json(value: Any) -> str:
    """Compact JSON (no spaces, non-ASCII raw) with ``Decimal`` written as its literal.

    >>> from decimal import Decimal
    >>> compact_json({"a": Decimal("1.50"), "b": ["张三", True, None]})
    '{"a":1.50,"b":["张三",true,null]}'
    """
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return encode_basestring(value)  # what json.dumps(value, ensure_ascii=False) writes
    if isinstance(value, WireModel):
        return compact_json(value.to_wire())
    if isinstance(value, Mapping):
        return "{" + ",".join(encode_basestring(str(k)) + ":" + compact_json(v)
                              for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(compact_json(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def get(item: Any, attr: str) -> Any:
    """A field of a list entry in the cross-field rules."""
    return getattr(item, attr, None)


# --------------------------------------------------------------------------- errors

# pydantic's error types -> medpay's rule ids (see the module docstring).
_RULES: Dict[str, str] = {
    "missing": "required",
    "string_too_short": "required",
    "too_short": "required",
    "extra_forbidden": "unknown_field",
    "string_too_long": "max_length",
    "decimal_whole_digits": "integer_digits",
    "decimal_max_digits": "integer_digits",
    "less_than_equal": "integer_digits",
    "int_parsing_size": "integer_digits",
    "greater_than_equal": "integer_digits",
    "decimal_max_places": "decimal_places",
    "finite_number": "type",
    "model_type": "type",
    "model_attributes_type": "type",
}

# Python name -> wire name of every field of every model, to name errors by wire name.
_WIRE_NAMES: Dict[str, str] = {}


def _rule(kind: str) -> str:
    if kind in _RULES:
        return _RULES[kind]
    if kind.endswith(("_type", "_parsing")):
        return "type"
    return kind


def field_errors(e: PydanticValidationError) -> List[FieldError]:
    """pydantic's errors in medpay's form: the field by wire name (``feedetailList[3].cnt``),
    a rule id, the message. Values are never echoed (they may be personal data).

    >>> import pydantic
    >>> from medpay_core.models import RevokeResponse
    >>> try:
    ...     RevokeResponse.model_validate({})
    ... except pydantic.ValidationError as e:
    ...     field_errors(e)
    [{'field': 'success', 'rule': 'required', 'message': 'Field required'}]
    """
    out: List[FieldError] = []
    for d in e.errors(include_url=False, include_input=False, include_context=False):
        field = ""
        for part in d.get("loc", ()):
            if isinstance(part, int):
                field += f"[{part}]"
            else:
                name = _WIRE_NAMES.get(str(part), str(part))
                field += f".{name}" if field else name
        out.append(err(field or "data", _rule(d["type"]), d["msg"]))
    return out


def _raise_rules(model: str, errors: List[FieldError]) -> None:
    """The cross-field rules' errors as one pydantic ValidationError, each at its field."""
    details = []
    for x in errors:
        loc: List[Union[str, int]] = []
        for part in re.split(r"\.|(?=\[)", x["field"]):
            m = re.fullmatch(r"\[(\d+)\]", part)
            loc.append(int(m.group(1)) if m else part)
        details.append(InitErrorDetails(type=_fail(x["rule"], x["message"]), loc=tuple(loc), input=None))
    raise PydanticValidationError.from_exception_data(model, details)


def validate(model_cls: Type[M], data: Any) -> M:
    """medpay's boundary (client, sandbox, callbacks): ``data`` (a model of the class,
    or a mapping of wire or Python names) as ``model_cls``, or a
    :class:`medpay_core.errors.ValidationError` (a ``MedpayError``) listing every bad field.

    >>> from medpay_core.models import RevokeResponse
    >>> validate(RevokeResponse, {"success": True}).success
    True
    """
    try:
        if isinstance(data, model_cls):
            data._medpay_recheck()  # fields assigned since it was built
            return data
        return model_cls.model_validate(_as_mapping(data))
    except PydanticValidationError as e:
        raise ValidationError(field_errors(e), model=model_cls.__name__) from None


# --------------------------------------------------------------------------- base models


class WireModel(BaseModel):
    """Base of every transaction model: what the institution builds (strict).

    Attributes are snake_case (``medfee_sumamt``), wire names exactly as in the spec
    (``medfeeSumamt``); both are accepted. A field the table does not have is refused.
    Assigning a field checks it as construction does.

    >>> from decimal import Decimal
    >>> from medpay_core.models import CashierEncData
    >>> CashierEncData(pay_auth_no="A1", deposit=Decimal("1.50")).to_wire()
    {'payAuthNo': 'A1', 'deposit': Decimal('1.50')}
    """

    # hide_input_in_errors: a value in an error may be an idNo or a name (PIPL).
    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True, validate_assignment=True,
                              hide_input_in_errors=True)

    # (text, wire dict) of a sub-model read from JSON text, for to_wire to send the text
    # as given: it is signed as that string. Not a field: never on the wire by itself.
    _medpay_text: Optional[Tuple[str, Dict[str, Any]]] = PrivateAttr(default=None)

    #: True for what the center builds (answers, notices): lenient about shapes.
    __medpay_inbound__: ClassVar[bool] = False

    # Per class, set once it is built: attribute -> wire name where the two differ, and
    # whether the class has cross-field rules (none: nothing to re-check).
    __medpay_python_names__: ClassVar[Dict[str, str]] = {}
    __medpay_has_rules__: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Runs before pydantic builds the class's schema: tell each row its direction.
        super().__init_subclass__(**kwargs)
        for value in list(vars(cls).values()):
            if isinstance(value, FieldInfo):
                for i, meta in enumerate(value.metadata):
                    row = _row_of(meta)
                    if row is not None:
                        row.inbound = cls.__medpay_inbound__
                        value.metadata[i] = row.validator()  # it depends on the direction

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for attr, info in cls.model_fields.items():
            if isinstance(info.serialization_alias, str):
                _WIRE_NAMES[attr] = info.serialization_alias
        cls.__medpay_python_names__ = {a: w for a, f in cls.model_fields.items()
                                       if (w := f.serialization_alias or a) != a}
        rules = cls._medpay_rules.__func__  # type: ignore[attr-defined]
        cls.__medpay_has_rules__ = rules is not WireModel._medpay_rules.__func__  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _medpay_one_name_each(cls, data: Any) -> Any:
        # Both names accepted; the same field given under both must say one thing.
        names = cls.__medpay_python_names__
        if not isinstance(data, dict) or names.keys().isdisjoint(data):
            return data  # the common case: wire names only
        twice = [(a, w) for a, w in names.items() if a in data and w in data]
        if not twice:
            return data
        clash = [(a, w) for a, w in twice if data[a] != data[w]]
        if clash:
            _raise_rules(cls.__name__, [err(w, "conflict", f"given twice with different values ({w}, {a})")
                                        for a, w in clash])
        return {k: v for k, v in data.items() if k not in {a for a, _ in twice}}

    def __repr_args__(self) -> Any:
        # Personal data (idNo, names, phone numbers) is masked in reprs and in str().
        for name, value in super().__repr_args__():
            yield name, (mask_value(name, value) if isinstance(name, str) else value)

    @classmethod
    def _medpay_rules(cls, v: Dict[str, Any], prefix: str) -> List[FieldError]:
        """Cross-field rules from the table's notes; ``v`` maps attribute to value. They
        run once every field is valid."""
        return []

    @model_validator(mode="after")
    def _medpay_check_rules(self, info: ValidationInfo) -> "WireModel":
        # Not on assignment (info.field_name set): related fields may then be changed one
        # after the other; to_wire() checks the rules again before anything is sent.
        if info.field_name is None:
            self._medpay_recheck()
        return self

    def _medpay_recheck(self) -> None:
        if not type(self).__medpay_has_rules__:
            return
        errors = type(self)._medpay_rules({k: getattr(self, k) for k in type(self).model_fields}, "")
        if errors:
            _raise_rules(type(self).__name__, errors)

    @classmethod
    def from_wire(cls: Type[M], data: Mapping[str, Any]) -> M:
        """Build the model from a wire dict (the decrypted ``data`` of a message): the
        same as ``model_validate``.

        >>> from medpay_core.models import RevokeResponse
        >>> RevokeResponse.from_wire({"success": True}).success
        True
        """
        return cls.model_validate(data)

    def _wire_dict(self) -> Dict[str, Any]:
        return self.model_dump(mode="python", by_alias=True, exclude_none=True)

    def to_wire(self) -> Dict[str, Any]:
        """The wire dict: spec names, ``None`` left out, ``Decimal`` kept, nested models
        as dicts, except an ``expContent``/``extData`` given as JSON text, which goes out
        as that same text (see :func:`nested`); unknown fields of answers included.

        >>> from medpay_core.models import PayOrderResponse
        >>> PayOrderResponse(pay_ord_id="P1", ord_stas="1", fee_sumamt="10.5", own_pay_amt=0,
        ...     psn_acct_pay=0, fund_pay="10.50", oth_fee_amt=0).to_wire()["feeSumamt"]
        Decimal('10.5')
        """
        self._medpay_recheck()
        return self._wire_dict()


def _row_of(meta: Any) -> Optional[_Row]:
    row = getattr(getattr(meta, "func", None), "__self__", None)
    return row if isinstance(row, _Row) else None


class InboundModel(WireModel):
    """Base of what the center builds (answers, 6204/6302 notices): unknown fields are
    kept (``model_extra``) and come back out of :meth:`to_wire`; shapes are read leniently.

    >>> from medpay_core.models import RefundResponse
    >>> r = RefundResponse.from_wire({"refdSn": "R1", "refStatus": "SUCC", "newField": 1})
    >>> r.ref_status, r.to_wire()
    ('SUCC', {'refdSn': 'R1', 'refStatus': 'SUCC', 'newField': 1})
    """

    model_config = ConfigDict(extra="allow")
    __medpay_inbound__ = True


class ExtModel(WireModel):
    """Base of the ``expContent``/``extData`` sub-models: open objects (unknown keys
    kept), accepted as the object or as the JSON text of it; given as text, they go out
    as that text.

    >>> from medpay_core.models import QueryOrderExtData
    >>> QueryOrderExtData.from_wire({"psnPaySn": "S1", "other": "x"}).to_wire()
    {'psnPaySn': 'S1', 'other': 'x'}
    """

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="wrap")
    @classmethod
    def _medpay_from_text(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if isinstance(data, str):
            parsed = _parse_json(data)
            if not isinstance(parsed, dict):
                raise _fail("dict_type", "must be a JSON object")
            obj = handler(parsed)
            obj._medpay_text = (data, obj.to_wire())
            return obj
        return handler(data)

    @model_serializer(mode="wrap")
    def _medpay_as_sent(self, handler: SerializerFunctionWrapHandler) -> Union[Dict[str, Any], str]:
        out: Dict[str, Any] = handler(self)
        kept = _kept(self)
        if kept is not None and kept[1] == out:
            return kept[0]  # read from this very text, unchanged since: sent as is
        return out

    @classmethod
    def from_wire(cls: Type[M], data: Union[Mapping[str, Any], str]) -> M:
        """Build from the object or from its JSON text.

        >>> from medpay_core.models import SettlementExtData
        >>> SettlementExtData.from_wire('{"psnPaySn":"PS1"}').to_wire()
        {'psnPaySn': 'PS1'}
        """
        return cls.model_validate(data)

    def to_wire(self) -> Dict[str, Any]:
        """The object as a dict (also when it was read from text)."""
        kept = _kept(self)
        if kept is None:
            return self._wire_dict()
        self._medpay_text = None
        try:
            return self._wire_dict()
        finally:
            self._medpay_text = kept


class ExtData(ExtModel):
    """``extData`` whose content the spec leaves to each region (6201, 6202, 6203, 6205
    answers): every key kept as sent.

    >>> ExtData.from_wire({"setlId": "S9"}).to_wire()
    {'setlId': 'S9'}
    """

    __medpay_inbound__ = True
