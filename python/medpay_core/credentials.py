"""What medpay accepts where it needs our credentials: :class:`Credentials`, or an
:class:`EnvelopeCodec` already made from them (it holds the derived data key, so a
gateway reuses one per institution)."""

from __future__ import annotations

import threading
from typing import Callable, Dict, Iterator, Mapping, Optional, Union

from ._native import Credentials, EnvelopeCodec
from .errors import UnknownAppIdError

__all__ = ["CredentialsLike", "Resolver", "Institutions", "as_codec"]

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


#: A gateway's lookup: the credentials of an appId, or None for an appId it does not serve.
Resolver = Callable[[str], Optional[CredentialsLike]]


class Institutions(Mapping[str, EnvelopeCodec]):
    """appId -> EnvelopeCodec for everything that receives messages of several
    institutions (the notice app, 6204 redirects): from a mapping, or from a resolver
    called the first time an appId is seen (its codec is then kept, so the data key is
    derived once). ``open`` is True for a resolver: the set of appIds is not known in
    advance. An appId nobody serves is an :class:`UnknownAppIdError`.

    >>> import medpay_core as mp
    >>> creds = mp.Credentials("APP1000000000000", "S" * 32)
    >>> found = Institutions(lambda app_id: creds if app_id == creds.app_id else None)
    >>> found.codec("APP1000000000000").credentials.app_id
    'APP1000000000000'
    """

    def __init__(self, source: Union[Mapping[str, CredentialsLike], Resolver]):
        self._resolver: Optional[Resolver] = None
        self._codecs: Dict[str, EnvelopeCodec] = {}
        self._lock = threading.Lock()
        if isinstance(source, Mapping):
            for c in source.values():
                codec = as_codec(c)
                self._codecs[codec.credentials.app_id] = codec
        elif callable(source):
            self._resolver = source
        else:
            raise TypeError("expected a mapping appId -> credentials or a function appId -> credentials")

    @property
    def open(self) -> bool:
        return self._resolver is not None

    def __getitem__(self, app_id: str) -> EnvelopeCodec:
        codec = self._codecs.get(app_id)
        if codec is None and self._resolver is not None and isinstance(app_id, str) and app_id:
            found = self._resolver(app_id)
            if found is not None:
                codec = as_codec(found)
                if codec.credentials.app_id != app_id:
                    raise ValueError(f"the resolver gave the credentials of another appId for {app_id!r}")
                with self._lock:
                    codec = self._codecs.setdefault(app_id, codec)
        if codec is None:
            raise KeyError(app_id)
        return codec

    def codec(self, app_id: object) -> EnvelopeCodec:
        """The codec of ``app_id``, or an UnknownAppIdError naming it."""
        try:
            return self[app_id] if isinstance(app_id, str) else self[""]
        except KeyError:
            raise UnknownAppIdError(
                f"no credentials for appId {app_id!r}: configure that institution's credentials",
                app_id=None if app_id is None else str(app_id)) from None

    def only(self) -> Optional[EnvelopeCodec]:
        """The one codec of a closed set of one institution, else None."""
        if self._resolver is None and len(self._codecs) == 1:
            return next(iter(self._codecs.values()))
        return None

    def __iter__(self) -> Iterator[str]:  # the appIds known so far
        return iter(list(self._codecs))

    def __len__(self) -> int:
        return len(self._codecs)

    def __repr__(self) -> str:
        return f"<Institutions {len(self._codecs)} known{', resolver' if self._resolver else ''}>"
