"""Shared machinery of the typed transaction models.

Every model is a pydantic v2 model whose fields are declared with the helpers below
(:func:`text`, :func:`amount`, :func:`integer`, :func:`flag`, :func:`nested`,
:func:`items`). Each helper records the row of the spec table (wire name, type, length,
required, value set, format) and the checks run by one engine, so a failure lists every
bad field at once as a :class:`medpay_core.errors.ValidationError`:

>>> from medpay_core.models import RevokeRequest
>>> from medpay_core.errors import ValidationError
>>> try:
...     RevokeRequest(payOrdId="ORD1", idType="0" * 4)
... except ValidationError as e:
...     sorted({(x["field"], x["rule"]) for x in e.errors})[:3]
[('idNo', 'required'), ('idType', 'max_length'), ('orgCodg', 'required')]

Rule ids in ``errors[i]["rule"]``:

``required``       a required field is missing (or ``""`` / an empty list)
``required_if``    a field the notes make conditional is missing (e.g. ``initRxOrd``)
``one_of_required`` neither of two fields is given (``ecToken`` / ``payAuthNo``)
``type``           wrong kind of value (e.g. a list for a string, ``"abc"`` for a number)
``float_refused``  a float for a number; use ``Decimal`` or ``str``
``max_length``     longer than the table's length, in characters
``integer_digits`` too many digits before the decimal point
``decimal_places`` too many digits after the decimal point
``enum``           not one of the values the spec lists
``format``         a date/time, coordinate or JSON text in the wrong format
``conflict``       the same field given twice (wire and Python name) with different values
``sum_mismatch``, ``mismatch``, ``duplicate``   cross-field rules of a table's notes

Direction matters. Models the institution builds (requests, the 6302 reply) are strict:
a float amount is refused and an amount keeps exactly the decimals written. Models
the center builds (responses, 6204/6302 notices, ``extData``) are lenient about the
shape the center sends — numbers as strings, strings as numbers, ``"true"``, a float
from a JSON parser that did not keep literals — but still end up typed: ``Decimal``
amounts, ``str`` codes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Tuple, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic import ValidationError as PydanticValidationError

from ..errors import ValidationError

__all__ = [
    "WireModel",
    "ExtModel",
    "ExtData",
    "FieldSpec",
    "text",
    "amount",
    "integer",
    "flag",
    "nested",
    "items",
    "err",
    "get",
    "validate",
]

Error = Dict[str, str]


def err(field: str, rule: str, message: str) -> Error:
    """One entry of ``ValidationError.errors``."""
    return {"field": field, "rule": rule, "message": message}


# --------------------------------------------------------------------------- field specs

# Date/time formats: name -> (spec notation, strptime format, shape regex).
_FORMATS: Dict[str, Tuple[str, str, "re.Pattern[str]"]] = {
    "datetime": ("yyyy-MM-dd HH:mm:ss", "%Y-%m-%d %H:%M:%S",
                 re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")),
    "date": ("yyyy-MM-dd", "%Y-%m-%d", re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")),
    "compact_datetime": ("yyyyMMddHHmmss", "%Y%m%d%H%M%S", re.compile(r"[0-9]{14}")),
}
_LATLNG = re.compile(r"(-?[0-9]{1,3}(?:\.[0-9]+)?),(-?[0-9]{1,2}(?:\.[0-9]+)?)")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_INTEGER = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class FieldSpec:
    """One row of a spec table, as the engine checks it."""

    attr: str
    wire: str
    kind: str  # text | amount | integer | flag | object | list
    title: str = ""
    required: bool = False
    max_length: Optional[int] = None
    precision: Optional[int] = None
    scale: Optional[int] = None
    enum: Optional[Tuple[str, ...]] = None
    fmt: Optional[str] = None
    aliases: Tuple[str, ...] = ()
    model: Optional[type] = None


def _field(wire: str, title: str, meta: Dict[str, Any]) -> Any:
    return Field(None, alias=wire, description=title or None,
                 json_schema_extra={"x-medpay": meta})


def text(wire: str, max_length: Optional[int], title: str = "", *, required: bool = False,
         enum: Optional[Tuple[str, ...]] = None, fmt: Optional[str] = None,
         aliases: Tuple[str, ...] = ()) -> Any:
    """A 字符型 field: a ``str`` of at most ``max_length`` characters.

    ``enum`` restricts it to the values the spec lists; ``fmt`` is one of ``datetime``
    (``yyyy-MM-dd HH:mm:ss``), ``date`` (``yyyy-MM-dd``), ``compact_datetime``
    (``yyyyMMddHHmmss``) or ``latlng`` (``118.096435,24.485407``); a ``datetime``/``date``
    object is accepted for the date formats and stored as the wire text.
    """
    return _field(wire, title, {"kind": "text", "required": required, "max_length": max_length,
                                "enum": list(enum) if enum else None, "fmt": fmt,
                                "aliases": list(aliases)})


def amount(wire: str, precision: int, scale: int, title: str = "", *,
           required: bool = False, aliases: Tuple[str, ...] = ()) -> Any:
    """A 数值型 ``precision,scale`` field (``16,2``: at most 14 integer digits and 2
    decimals), held as ``Decimal``. ``aliases``: other input names accepted."""
    return _field(wire, title, {"kind": "amount", "required": required,
                                "precision": precision, "scale": scale,
                                "aliases": list(aliases)})


def integer(wire: str, digits: int, title: str = "", *, required: bool = False) -> Any:
    """A 数值型 field without decimals (length ``2``: at most 2 digits), held as ``int``."""
    return _field(wire, title, {"kind": "integer", "required": required, "precision": digits})


def flag(wire: str, title: str = "", *, required: bool = False) -> Any:
    """A 布尔型 field."""
    return _field(wire, title, {"kind": "flag", "required": required})


def nested(wire: str, title: str = "", *, required: bool = False,
           max_length: Optional[int] = None) -> Any:
    """An ``expContent``/``extData`` object. It is accepted as the sub-model, a mapping
    or the JSON text of the object (as centers and their SDKs send it), and checked as the
    sub-model either way. ``to_wire`` gives it in the form it came in: the JSON text
    verbatim (it is signed as that very string, so it must not be re-written), a dict
    otherwise. ``max_length`` (``expContent`` is 字符型 4000) applies to that text, or to
    the compact JSON text of a dict."""
    return _field(wire, title, {"kind": "object", "required": required,
                                "max_length": max_length})


def items(wire: str, title: str = "", *, required: bool = False) -> Any:
    """A list of sub-models (``diseinfoList``, ``feedetailList``)."""
    return _field(wire, title, {"kind": "list", "required": required})


def _inner_model(annotation: Any) -> Optional[type]:
    """The BaseModel class inside Optional[...] / List[...] annotations."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


# --------------------------------------------------------------------------- value checks


class _Invalid(Exception):
    """Internal: carries the error list out of pydantic untouched (not a ValueError, so
    pydantic does not wrap it). Turned into ValidationError at every entry point."""

    def __init__(self, errors: List[Error]):
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


def _check_decimal(spec: FieldSpec, v: Any, path: str, inbound: bool) -> Tuple[Any, List[Error]]:
    if isinstance(v, bool):
        return None, [err(path, "type", "must be a number, not a boolean")]
    if isinstance(v, float):
        if not inbound:
            return None, [err(path, "float_refused",
                              "floats are refused (binary rounding); use Decimal or str, "
                              "e.g. Decimal('12.30') or '12.30'")]
        if v != v or v in (float("inf"), float("-inf")):
            return None, [err(path, "type", "must be a finite number")]
        v = Decimal(repr(v))  # the shortest text that reads back as this float
    elif isinstance(v, int):
        v = Decimal(v)
    elif isinstance(v, str):
        s = v.strip() if inbound else v
        if not _NUMBER.fullmatch(s):
            return None, [err(path, "type", "must be a decimal number such as '12.30'")]
        v = Decimal(s)
    elif isinstance(v, Decimal):
        if not v.is_finite():
            return None, [err(path, "type", "must be a finite number")]
    else:
        return None, [err(path, "type", "must be a Decimal, int or numeric str")]
    assert spec.precision is not None and spec.scale is not None
    int_limit = spec.precision - spec.scale
    sign, digits, exp = v.as_tuple()
    assert isinstance(exp, int)
    problems = []
    if v != 0 and v.adjusted() + 1 > int_limit:
        problems.append(err(path, "integer_digits",
                            f"at most {int_limit} digits before the decimal point "
                            f"({spec.precision},{spec.scale})"))
    if inbound:  # value-based: trailing zeros the center added do not count
        while exp < 0 and len(digits) > 1 and digits[-1] == 0:
            digits, exp = digits[:-1], exp + 1
    if -exp > spec.scale:
        problems.append(err(path, "decimal_places",
                            f"at most {spec.scale} decimal places "
                            f"({spec.precision},{spec.scale}); quantize it first"))
    if problems:
        return None, problems
    if v.as_tuple().exponent > 0:  # Decimal('1E+2') -> Decimal('100'): plain wire text
        v = v.quantize(Decimal(1))
    return v, []


def _check_integer(spec: FieldSpec, v: Any, path: str, inbound: bool) -> Tuple[Any, List[Error]]:
    assert spec.precision is not None
    too_long = [err(path, "integer_digits", f"at most {spec.precision} digits")]
    if isinstance(v, bool):
        return None, [err(path, "type", "must be a whole number, not a boolean")]
    if isinstance(v, float):
        if not inbound:
            return None, [err(path, "float_refused", "floats are refused; use int or str")]
        if not v.is_integer():
            return None, [err(path, "type", "must be a whole number")]
        if abs(v) >= 10 ** spec.precision:
            return None, too_long
        v = int(v)
    elif isinstance(v, Decimal):
        if not v.is_finite() or v != v.to_integral_value():
            return None, [err(path, "type", "must be a whole number")]
        if v != 0 and v.adjusted() + 1 > spec.precision:
            return None, too_long
        v = int(v)
    elif isinstance(v, str):
        s = v.strip() if inbound else v
        if not _INTEGER.fullmatch(s):
            return None, [err(path, "type", "must be a whole number such as '1'")]
        if len(s.lstrip("-").lstrip("0")) > spec.precision:
            return None, too_long
        v = int(s)
    elif not isinstance(v, int):
        return None, [err(path, "type", "must be an int or a str of digits")]
    if abs(v) >= 10 ** spec.precision:
        return None, too_long
    return v, []


def _check_format(fmt: str, v: Any, path: str) -> Tuple[Any, List[Error]]:
    if fmt == "latlng":
        m = _LATLNG.fullmatch(v) if isinstance(v, str) else None
        if not m or abs(float(m.group(1))) > 180 or abs(float(m.group(2))) > 90:
            return None, [err(path, "format",
                              "must be 'longitude,latitude' such as '118.096435,24.485407' "
                              "('0,0' when location failed)")]
        return v, []
    notation, pattern, shape = _FORMATS[fmt]
    if isinstance(v, datetime) or (isinstance(v, date) and fmt == "date"):
        return v.strftime(pattern), []
    if isinstance(v, str) and shape.fullmatch(v):
        try:
            datetime.strptime(v, pattern)
            return v, []
        except ValueError:
            pass
    return None, [err(path, "format", f"must be a valid {notation}")]


def _check_text(spec: FieldSpec, v: Any, path: str, inbound: bool) -> Tuple[Any, List[Error]]:
    if spec.fmt and isinstance(v, (date, datetime)):
        pass  # formatted below
    elif isinstance(v, bool) or not isinstance(v, (str, int)) or (isinstance(v, int) and not inbound):
        return None, [err(path, "type", "must be a string")]
    elif isinstance(v, int):
        v = str(v)  # lenient: a code the center sent as a number
    if spec.enum is not None and v not in spec.enum:
        return None, [err(path, "enum", "must be one of " + ", ".join(spec.enum))]
    if spec.fmt:
        v, errors = _check_format(spec.fmt, v, path)
        if errors:
            return None, errors
    if spec.max_length is not None and len(v) > spec.max_length:
        return None, [err(path, "max_length", f"at most {spec.max_length} characters, got {len(v)}")]
    return v, []


def _check_flag(v: Any, path: str, inbound: bool) -> Tuple[Any, List[Error]]:
    if isinstance(v, bool):
        return v, []
    if inbound and isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true", []
    return None, [err(path, "type", "must be true or false")]


_NOT_JSON = object()


def _parse_json(text: Union[str, bytes, bytearray]) -> Any:
    """JSON text with number literals kept as Decimal; ``_NOT_JSON`` when it is not
    JSON (or nested too deep to read)."""
    try:
        return json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _as_mapping(v: Any) -> Any:
    """Another model given where a mapping is expected: use its wire form."""
    if isinstance(v, WireModel):
        return v.to_wire()
    if isinstance(v, BaseModel):
        return v.model_dump(by_alias=True, exclude_none=True)
    return v


def _verbatim(obj: Any) -> Optional[str]:
    """The JSON text a sub-model was read from; None if it was not, or if a field was
    changed since (the text no longer says what the model holds: it goes out as a dict)."""
    kept = getattr(obj, "_medpay_text", None) if isinstance(obj, WireModel) else None
    if kept is None:
        return None
    text, wire = kept
    return text if obj.to_wire() == wire else None


def _remember_text(obj: "WireModel", text: str) -> None:
    obj._medpay_text = (text, obj.to_wire())


def _check_object(spec: FieldSpec, v: Any, path: str, inbound: bool) -> Tuple[Any, List[Error]]:
    model = spec.model
    assert model is not None and issubclass(model, WireModel)
    if isinstance(v, model):
        obj = v
    else:
        # JSON text, or another table's sub-model read from text: checked from the text,
        # which is kept for the wire.
        text = v if isinstance(v, str) else _verbatim(v)
        if text is not None:
            v = _parse_json(text)
            if v is _NOT_JSON:
                return None, [err(path, "format", "must be a JSON object (the text is not JSON)")]
        v = _as_mapping(v)
        if not isinstance(v, Mapping):
            return None, [err(path, "type", "must be an object or the JSON text of one")]
        values, errors = model._medpay_coerce(v, path + ".")
        if errors:
            return values, errors
        obj = model.model_construct(**values)
        if text is not None:
            _remember_text(obj, text)
    if spec.max_length is not None:
        text = _verbatim(obj)
        size = len(text) if text is not None else len(compact_json(obj.to_wire()))
        if size > spec.max_length:
            return None, [err(path, "max_length",
                              f"its JSON text is at most {spec.max_length} characters, got {size}")]
    return obj, []


def _check_list(spec: FieldSpec, v: Any, path: str, inbound: bool) -> Tuple[Any, List[Error]]:
    model = spec.model
    assert model is not None and issubclass(model, WireModel)
    if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, (list, tuple)):
        return None, [err(path, "type", "must be a list")]
    out: List[Any] = []
    errors: List[Error] = []
    for i, item in enumerate(v):
        where = f"{path}[{i}]"
        if isinstance(item, model):
            out.append(item)
            continue
        item = _as_mapping(item)
        if not isinstance(item, Mapping):
            errors.append(err(where, "type", "must be an object"))
            out.append({})
            continue
        values, item_errors = model._medpay_coerce(item, where + ".")
        if item_errors:
            errors.extend(item_errors)
            out.append(values)  # partial: the fields that passed, for the cross-field rules
        else:
            out.append(model.model_construct(**values))
    return out, errors


def _check(spec: FieldSpec, v: Any, path: str, inbound: bool) -> Tuple[Any, List[Error]]:
    if v is None or (isinstance(v, str) and v == ""):
        # "" counts as absent: the sign text drops empty strings, so the center never sees it
        return None, ([err(path, "required", "is required")] if spec.required else [])
    if spec.kind == "text":
        return _check_text(spec, v, path, inbound)
    if spec.kind == "amount":
        return _check_decimal(spec, v, path, inbound)
    if spec.kind == "integer":
        return _check_integer(spec, v, path, inbound)
    if spec.kind == "flag":
        return _check_flag(v, path, inbound)
    if spec.kind == "object":
        return _check_object(spec, v, path, inbound)
    value, errors = _check_list(spec, v, path, inbound)
    if not errors and spec.required and not value:
        return None, [err(path, "required", "must have at least one entry")]
    return value, errors


def get(item: Any, attr: str) -> Any:
    """A field of a list entry in the cross-field rules: the model, or the dict of the
    fields that passed when the entry itself had errors."""
    if isinstance(item, BaseModel):
        return getattr(item, attr, None)
    return item.get(attr) if isinstance(item, Mapping) else None


# --------------------------------------------------------------------------- JSON text


def compact_json(value: Any) -> str:
    """Compact JSON (no spaces, non-ASCII raw) with ``Decimal`` written as its literal.

    >>> from decimal import Decimal
    >>> compact_json({"a": Decimal("1.50"), "b": ["张三", True, None]})
    '{"a":1.50,"b":["张三",true,null]}'
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, WireModel):
        return compact_json(value.to_wire())
    if isinstance(value, Mapping):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + compact_json(v)
                              for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(compact_json(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _plain(value: Any) -> Any:
    """An unknown field's value for ``to_wire``: models as dicts, containers copied."""
    if isinstance(value, WireModel):
        return value.to_wire()
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _from_pydantic(e: PydanticValidationError) -> List[Error]:
    """pydantic's errors in medpay's form. A model with its own ``__init__`` is built
    through it even by ``model_validate``, so our own ValidationError may come back
    wrapped as a ``value_error``: unwrap it."""
    out = []
    for d in e.errors(include_url=False, include_input=False, include_context=True):
        field = ""
        for part in d.get("loc", ()):
            field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
        inner = (d.get("ctx") or {}).get("error")
        if isinstance(inner, ValidationError):
            out.extend(dict(x, field=f"{field}.{x['field']}" if field else x["field"])
                       for x in inner.errors)
            continue
        out.append(err(field or "data", {"missing": "required"}.get(d["type"], d["type"]), d["msg"]))
    return out


# --------------------------------------------------------------------------- base models


class WireModel(BaseModel):
    """Base of every transaction model.

    Attributes are snake_case (``medfee_sumamt``), wire names exactly as in the spec
    (``medfeeSumamt``); both are accepted. Unknown wire fields are kept and sent back.

    >>> from decimal import Decimal
    >>> from medpay_core.models import RefundResponse
    >>> r = RefundResponse.from_wire({"refdSn": "R1", "refStatus": "SUCC", "newField": 1})
    >>> r.ref_status, r.to_wire()
    ('SUCC', {'refdSn': 'R1', 'refStatus': 'SUCC', 'newField': 1})
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    # (text, wire dict) of a sub-model read from JSON text, for to_wire to send the text
    # as given: it is signed as that string. Not a field: never on the wire by itself.
    _medpay_text: Optional[Tuple[str, Dict[str, Any]]] = PrivateAttr(default=None)

    #: True for what the center builds (responses, notices): lenient about shapes.
    __medpay_inbound__: ClassVar[bool] = False
    __medpay_specs__: ClassVar[Tuple[FieldSpec, ...]] = ()
    __medpay_names__: ClassVar[Dict[str, FieldSpec]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        specs = []
        names: Dict[str, FieldSpec] = {}
        for attr, info in cls.model_fields.items():
            extra = info.json_schema_extra
            meta = extra.get("x-medpay") if isinstance(extra, dict) else None
            if not isinstance(meta, dict):
                raise TypeError(f"{cls.__name__}.{attr}: declare fields with the models' helpers")
            spec = FieldSpec(
                attr=attr, wire=info.alias or attr, kind=meta["kind"],
                title=info.description or "", required=bool(meta.get("required")),
                max_length=meta.get("max_length"), precision=meta.get("precision"),
                scale=meta.get("scale"),
                enum=tuple(meta["enum"]) if meta.get("enum") else None,
                fmt=meta.get("fmt"),
                aliases=tuple(meta.get("aliases") or ()),
                model=_inner_model(info.annotation) if meta["kind"] in ("object", "list") else None,
            )
            specs.append(spec)
            for name in (spec.wire, spec.attr) + spec.aliases:
                names[name] = spec
        cls.__medpay_specs__ = tuple(specs)
        cls.__medpay_names__ = names

    # ---- validation engine

    @classmethod
    def _medpay_coerce(cls, data: Mapping, prefix: str) -> Tuple[Dict[str, Any], List[Error]]:
        """Check ``data`` against the table: (values by attribute, errors). The values
        hold the fields that passed; with errors they are partial."""
        errors: List[Error] = []
        given: Dict[str, Tuple[str, Any]] = {}
        extras: Dict[str, Any] = {}
        for key, value in data.items():
            spec = cls.__medpay_names__.get(key) if isinstance(key, str) else None
            if spec is None:
                extras[str(key)] = value
                continue
            if spec.attr in given:
                first_key, first = given[spec.attr]
                if first != value:
                    errors.append(err(prefix + spec.wire, "conflict",
                                      f"given twice with different values ({first_key}, {key})"))
                continue
            given[spec.attr] = (key, value)
        values: Dict[str, Any] = {}
        bad = set()
        for spec in cls.__medpay_specs__:
            raw = given.get(spec.attr, (None, None))[1]
            value, field_errors = _check(spec, raw, prefix + spec.wire, cls.__medpay_inbound__)
            if field_errors:
                errors.extend(field_errors)
                bad.add(spec.attr)
            values[spec.attr] = value
        rule_view = {k: (None if k in bad else v) for k, v in values.items()}
        for k in bad:
            if isinstance(values.get(k), list):  # keep partial lists for the rules
                rule_view[k] = values[k]
        errors.extend(cls._medpay_rules(rule_view, bad, prefix))
        values.update(extras)
        return values, errors

    @classmethod
    def _medpay_rules(cls, v: Dict[str, Any], bad: set, prefix: str) -> List[Error]:
        """Cross-field rules from the table's notes. ``v`` maps attribute to checked value
        (None when absent or invalid; ``bad`` names the invalid ones)."""
        return []

    @model_validator(mode="before")
    @classmethod
    def _medpay_validate(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        if isinstance(data, str) and issubclass(cls, ExtModel):
            data = _parse_json(data)
            if data is _NOT_JSON:
                raise _Invalid([err("data", "format", "must be a JSON object")])
        data = _as_mapping(data)
        if not isinstance(data, Mapping):
            raise _Invalid([err("data", "type", f"{cls.__name__} needs a mapping of fields")])
        values, errors = cls._medpay_coerce(data, "")
        if errors:
            raise _Invalid(errors)
        return values

    # ---- entry points: only medpay's ValidationError leaves them

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except _Invalid as e:
            raise ValidationError(e.errors, model=type(self).__name__) from None
        except PydanticValidationError as e:
            raise ValidationError(_from_pydantic(e), model=type(self).__name__) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any):  # type: ignore[override]
        try:
            return super().model_validate(obj, *args, **kwargs)
        except _Invalid as e:
            raise ValidationError(e.errors, model=cls.__name__) from None
        except PydanticValidationError as e:
            raise ValidationError(_from_pydantic(e), model=cls.__name__) from None

    @classmethod
    def model_validate_json(cls, json_data: Union[str, bytes, bytearray], *args: Any,
                            **kwargs: Any):  # type: ignore[override]
        """Parse JSON text keeping number literals as ``Decimal``, then :meth:`from_wire`."""
        data = _parse_json(json_data)
        if data is _NOT_JSON:
            raise ValidationError([err("data", "format", "is not valid JSON")], model=cls.__name__)
        return cls.from_wire(data)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]):
        """Build the model from a wire dict (the decrypted ``data`` of a message).

        Unknown fields are kept (``model_extra``) and come back out of :meth:`to_wire`.

        >>> from medpay_core.models import RevokeResponse
        >>> RevokeResponse.from_wire({"success": True}).success
        True
        """
        if not isinstance(data, Mapping):
            raise ValidationError([err("data", "type", f"{cls.__name__} needs a mapping of fields")],
                                  model=cls.__name__)
        return cls.model_validate(dict(data))

    def to_wire(self) -> Dict[str, Any]:
        """The wire dict: spec names, ``None`` left out, ``Decimal`` kept, nested models
        as dicts, except an ``expContent``/``extData`` given as JSON text, which goes out
        as that same text (see :func:`nested`); lists as lists, unknown fields included.
        The whole model is checked again first (fields assigned since construction,
        cross-field rules): what it returns is valid.

        >>> from decimal import Decimal
        >>> from medpay_core.models import PayOrderResponse
        >>> PayOrderResponse(pay_ord_id="P1", ord_stas="1", fee_sumamt="10.5", own_pay_amt=0,
        ...     psn_acct_pay=0, fund_pay="10.50", oth_fee_amt=0).to_wire()["feeSumamt"]
        Decimal('10.5')
        """
        self._medpay_recheck()
        out: Dict[str, Any] = {}
        for spec in type(self).__medpay_specs__:
            value = getattr(self, spec.attr, None)
            if value is None:
                continue
            if spec.kind == "object":
                text = _verbatim(value)
                out[spec.wire] = text if text is not None else _plain(value)
            elif spec.kind == "list":
                out[spec.wire] = _plain(value)
            else:
                out[spec.wire] = value
        for key, value in (self.__pydantic_extra__ or {}).items():
            if value is not None and key not in out:
                out[key] = _plain(value)
        return out

    def __setattr__(self, name: str, value: Any) -> None:
        """Assigning a field (by Python or wire name) checks the value like construction
        does. Cross-field rules are checked again by :meth:`to_wire`, so several related
        fields can be changed one after the other."""
        spec = type(self).__medpay_names__.get(name)
        if spec is None:
            super().__setattr__(name, value)
            return
        checked, errors = _check(spec, value, spec.wire, type(self).__medpay_inbound__)
        if errors:
            raise ValidationError(errors, model=type(self).__name__)
        super().__setattr__(spec.attr, checked)

    def _medpay_recheck(self) -> None:
        current = {s.attr: getattr(self, s.attr, None) for s in type(self).__medpay_specs__}
        errors = type(self)._medpay_coerce(current, "")[1]
        if errors:
            raise ValidationError(errors, model=type(self).__name__)


class ExtModel(WireModel):
    """Base of the ``expContent``/``extData`` sub-models. Accepts the object, or the JSON
    text of it (as centers send), keeping unknown keys.

    >>> from medpay_core.models import QueryOrderExtData
    >>> QueryOrderExtData.from_wire({"psnPaySn": "S1", "other": "x"}).to_wire()
    {'psnPaySn': 'S1', 'other': 'x'}
    """

    @classmethod
    def from_wire(cls, data: Union[Mapping[str, Any], str]):
        """Build from the object or from its JSON text.

        >>> from medpay_core.models import SettlementExtData
        >>> SettlementExtData.from_wire('{"psnPaySn":"PS1"}').to_wire()
        {'psnPaySn': 'PS1'}
        """
        if isinstance(data, str):
            obj = cls.model_validate(data)
            _remember_text(obj, data)  # given to a request as is, it goes out as this text
            return obj
        return super().from_wire(data)


class ExtData(ExtModel):
    """``extData`` whose content the spec leaves to each region (6201, 6202, 6203, 6205
    responses): every key kept as sent.

    >>> ExtData.from_wire({"setlId": "S9"}).to_wire()
    {'setlId': 'S9'}
    """

    __medpay_inbound__ = True


M = Any


def validate(model_cls: Any, data: Any) -> Any:
    """medpay's boundary (client, sandbox, callbacks): ``data`` (a model of the class,
    or a mapping of wire or Python names) as ``model_cls``; a
    :class:`medpay_core.errors.ValidationError` (a MedpayError) listing every bad field.

    >>> from medpay_core.models import RevokeResponse
    >>> validate(RevokeResponse, {"success": True}).success
    True
    """
    if isinstance(data, model_cls):
        return data
    return model_cls.from_wire(data)
