"""What medpay accepts where it needs our credentials: :class:`Credentials`, or an
:class:`EnvelopeCodec` already made from them (it holds the derived data key, so a
gateway reuses one per institution)."""

from __future__ import annotations

from typing import Union

from ._native import Credentials, EnvelopeCodec

__all__ = ["CredentialsLike", "as_codec"]

#: Credentials, or the EnvelopeCodec made from them.
CredentialsLike = Union[Credentials, EnvelopeCodec]


def as_codec(c: CredentialsLike) -> EnvelopeCodec:
    """``c`` as an EnvelopeCodec: a codec as it is, Credentials in a new one.

    >>> import medpay_core as mp
    >>> as_codec(mp.Credentials("APP1000000000000", "S" * 32)).credentials.app_id
    'APP1000000000000'
    """
    if isinstance(c, EnvelopeCodec):
        return c
    if isinstance(c, Credentials):
        return EnvelopeCodec(c)
    raise TypeError(f"expected Credentials or EnvelopeCodec, not {type(c).__name__}")
