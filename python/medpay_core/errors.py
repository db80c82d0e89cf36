"""The exceptions medpay raises. Catch :class:`MedpayError` for all of them.

>>> import medpay_core as mp
>>> try:
...     mp.SM2PublicKey.from_string("not a key")
... except mp.KeyFormatError as e:
...     print(type(e).__name__)
KeyFormatError
"""

from __future__ import annotations

from typing import Any, Optional


class MedpayError(Exception):
    """Base class of every error medpay raises."""


class KeyFormatError(MedpayError, ValueError):
    """A key or credential could not be read, or is not a valid SM2 key."""


class SignatureError(MedpayError):
    """A signature is missing, malformed, or does not verify."""


class DecryptError(MedpayError):
    """``encData`` could not be decrypted: bad hex, length, padding or plaintext."""


class EnvelopeError(MedpayError, ValueError):
    """The envelope is malformed: missing or mistyped fields, invalid or duplicate-keyed
    JSON, over the size or depth limit."""


class ValidationError(MedpayError, ValueError):
    """A transaction's fields break the rules of the interface spec.

    ``errors`` lists every problem as a dict with ``field`` (the wire name, dotted for
    nested fields), ``rule`` and ``message``.
    """

    def __init__(self, errors: list[dict[str, Any]], model: Optional[str] = None):
        self.errors = list(errors)
        self.model = model
        head = f"{model}: " if model else ""
        lines = "; ".join(f"{e['field']}: {e['message']}" for e in self.errors)
        super().__init__(f"{head}{len(self.errors)} invalid field(s): {lines}")


class TransportError(MedpayError):
    """The HTTP exchange failed (connection, timeout before sending, non-2xx status)."""


class BusinessError(MedpayError):
    """The center answered with a non-zero ``code`` or ``success`` false.

    ``code`` and ``message`` are the center's; ``response`` is the unpacked response
    kept for the log.
    """

    def __init__(self, code: Any, message: Optional[str], response: Any = None):
        self.code = code
        self.message = message
        self.response = response
        super().__init__(f"center refused with code {code!r}: {message or ''}".rstrip(": "))


class OutcomeUnknown(MedpayError):
    """A payment or refund was sent but no answer came back: it may or may not have
    happened. Never re-post it; query the order (``wait_for_settlement``)."""

    def __init__(self, message: str, *, request: Any = None):
        self.request = request
        super().__init__(message)


class SettlementPending(MedpayError):
    """``wait_for_settlement`` reached its deadline while the center kept answering that
    the order is not final yet (ordStas 0-5: saved, not paid or settled so far; or a
    value this version does not know). The outcome is known, it is just not there yet:
    nothing was lost, query again later. ``ord_stas`` and ``label`` are the last state,
    ``last_response`` the last QueryOrderResponse, ``request`` the 6301 request.

    >>> e = SettlementPending("6301: still in state 0", ord_stas="0", label="已保存")
    >>> e.ord_stas, isinstance(e, OutcomeUnknown)
    ('0', False)
    """

    def __init__(self, message: str, *, ord_stas: Optional[str] = None, label: Optional[str] = None,
                 last_response: Any = None, request: Any = None):
        self.ord_stas = ord_stas
        self.label = label
        self.last_response = last_response
        self.request = request
        super().__init__(message)


__all__ = [
    "MedpayError",
    "KeyFormatError",
    "SignatureError",
    "DecryptError",
    "EnvelopeError",
    "ValidationError",
    "TransportError",
    "BusinessError",
    "OutcomeUnknown",
    "SettlementPending",
]
