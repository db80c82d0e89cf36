"""Type stubs of the native module (rust/src/python.rs).

tests/test_native_stubs.py runs mypy's stubtest against the built module, so these stay
what the module is. Every class is final: a PyO3 class cannot be subclassed.
"""

from decimal import Decimal
from typing import Any, Iterable, Literal, Mapping, Optional, Union, final

__all__ = [
    "SM2PrivateKey",
    "SM2PublicKey",
    "Credentials",
    "EnvelopeCodec",
    "Message",
    "Diagnosis",
    "sm3",
    "sm4_ecb_encrypt",
    "sm4_ecb_decrypt",
    "sign_text",
    "parse_json",
    "derive_sm4_key",
    "diagnose",
    "sign_many",
    "verify_many",
    "PROTOCOL_VERSION",
]

PROTOCOL_VERSION: str
_Json = Union[Mapping[str, Any], list[Any], tuple[Any, ...], str, int, bool, None, Decimal]
_Envelope = Union[bytes, str, Mapping[str, Any]]
_KeyOrder = Literal["ordinal", "case_insensitive"]

@final
class SM2PublicKey:
    @staticmethod
    def from_string(s: str) -> SM2PublicKey: ...
    @staticmethod
    def from_bytes(b: bytes) -> SM2PublicKey: ...
    def verify(self, message: bytes, signature: bytes, uid: bytes = ...) -> bool: ...
    def to_hex(self) -> str: ...
    def to_bytes(self, compressed: bool = False) -> bytes: ...
    def to_base64(self) -> str: ...
    def to_pem(self) -> str: ...
    def to_der(self) -> bytes: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class SM2PrivateKey:
    @staticmethod
    def generate() -> SM2PrivateKey: ...
    @staticmethod
    def from_string(s: str) -> SM2PrivateKey: ...
    @staticmethod
    def from_bytes(b: bytes) -> SM2PrivateKey: ...
    def public_key(self) -> SM2PublicKey: ...
    def sign(self, message: bytes, uid: bytes = ...) -> bytes: ...
    def to_hex(self) -> str: ...
    def to_pem(self) -> str: ...
    def to_der(self, format: Literal["pkcs8", "sec1"] = "pkcs8") -> bytes: ...
    def to_base64(self) -> str: ...

_Private = Union[SM2PrivateKey, str, bytes, None]
_PublicKey = Union[SM2PublicKey, SM2PrivateKey, str, bytes]
#: One public key, or the keys a peer may sign with while it rotates its key (new, old).
_PublicKeys = Union[_PublicKey, list[_PublicKey], tuple[_PublicKey, ...]]
_Public = Union[_PublicKeys, None]

@final
class Credentials:
    """appId, appSecret, our private key and the peer's public key. The appId and the
    appSecret are taken without surrounding white space (a pasted secret's newline). The
    repr hides the secret.

    Key rotation: ``peer_public_key`` may be a list or tuple of keys (``[new, old]``, at
    least one: an empty list is a KeyFormatError); a signature by any of them verifies.
    The first is tried first, the others only when it fails. Signing is unchanged."""

    def __new__(cls, app_id: str, app_secret: str, private_key: _Private = None, peer_public_key: _Public = None,
                *, key_order: _KeyOrder = "ordinal", uid: bytes = ...) -> Credentials: ...
    @classmethod
    def from_sandbox_config(cls, config: Any, org_codg: Optional[str] = None) -> Credentials:
        """The credentials of one institution of a sandbox config: the same as
        ``medpay_core.sandbox.config.institution_credentials(config, org_codg=org_codg)``,
        which this calls (``org_codg`` picks the institution when there are several).

        >>> creds = Credentials.from_sandbox_config(config)              # doctest: +SKIP
        >>> client = MedpayClient(sandbox_url, creds)                   # doctest: +SKIP
        """
    @property
    def app_id(self) -> str: ...
    @property
    def app_secret(self) -> str:
        """The shared appSecret (a secret: do not log it)."""
    @property
    def key_order(self) -> str: ...
    @property
    def private_key(self) -> Optional[SM2PrivateKey]: ...
    @property
    def peer_public_key(self) -> Optional[SM2PublicKey]:
        """The peer's public key: the first of ``peer_public_keys``."""
    @property
    def peer_public_keys(self) -> tuple[SM2PublicKey, ...]:
        """Every key a peer's signature may verify with, in the order given (and tried)."""

@final
class Message:
    """An unpacked message; ``code``, ``success`` and ``message`` are read once, by the
    core, with one set of rules (docs/protocol.md §1)."""

    @property
    def data(self) -> Any: ...
    @property
    def fields(self) -> dict[str, Any]: ...
    @property
    def sign_text(self) -> Optional[str]:
        """The sign text that verified, with the appSecret at its end masked:
        ``…&key=********`` (eight asterisks, whatever the secret); None if unsigned."""
    @property
    def code(self) -> Union[int, str, None]:
        """An int for an integral number or a string holding an integer (``0``, ``"0"``,
        ``" 0 "``); otherwise the text as sent; None when absent."""
    @property
    def message(self) -> Optional[str]:
        """``message``, or ``msg`` when ``message`` is absent, as a str."""
    @property
    def success(self) -> Optional[bool]:
        """A JSON bool, or the strings "true"/"false" in any case, trimmed; else None."""
    @property
    def signed(self) -> bool:
        """Whether a signature verified (False: nothing in the message is verified)."""

@final
class EnvelopeCodec:
    def __new__(cls, credentials: Credentials, *, max_bytes: int = ..., max_depth: int = 64) -> EnvelopeCodec: ...
    @property
    def credentials(self) -> Credentials: ...
    def pack(self, data: _Json, *, timestamp: Optional[str] = None, version: str = "2.0.1",
             **fields: Any) -> dict[str, Any]: ...
    def pack_json(self, data: _Json, *, timestamp: Optional[str] = None, version: str = "2.0.1",
                  **fields: Any) -> bytes: ...
    def unpack(self, envelope: _Envelope, *, require_signature: bool = True) -> Message:
        """Decrypt, verify and read one envelope. Hostile input is a MedpayError, never
        another exception: an integer literal of more than 4300 digits (CPython's limit on
        converting text to ``int``; docs/protocol.md §1) in the data or the fields, or a
        str with a lone surrogate, is an EnvelopeError. Data of 256 KiB or more is
        verified before any Python object is built from it, so that a message whose
        signature fails costs memory in proportion to its bytes."""
    def pack_many(self, items: Iterable[_Json], *, timestamp: Optional[str] = None, version: str = "2.0.1",
                  threads: Optional[int] = None) -> list[Union[bytes, Exception]]: ...
    def unpack_many(self, envelopes: Iterable[_Envelope], *, require_signature: bool = True,
                    threads: Optional[int] = None) -> list[Union[Message, Exception]]: ...
    def encrypt_data(self, data: _Json) -> str: ...
    def decrypt_data(self, enc_data: str) -> Any: ...

@final
class Diagnosis:
    @property
    def sign_text(self) -> str:
        """The protocol's sign text, the appSecret masked as ``********`` wherever it stands."""
    @property
    def verifies(self) -> bool: ...
    @property
    def variant(self) -> Optional[str]: ...
    @property
    def variant_sign_text(self) -> Optional[str]:
        """The text the signer signed, when a variant explains it; the appSecret masked."""
    @property
    def data_unreadable(self) -> bool: ...
    @property
    def findings(self) -> list[str]: ...
    def report(self) -> str: ...

def sm3(data: bytes) -> bytes: ...
def sm4_ecb_encrypt(key: bytes, data: bytes) -> bytes: ...
def sm4_ecb_decrypt(key: bytes, data: bytes) -> bytes: ...
def parse_json(text: Union[str, bytes], *, max_bytes: int = ..., max_depth: int = 64) -> Any:
    """JSON text as Python values (``int``, ``Decimal`` with its literal, ``str``, ...),
    read by the core's parser: duplicate keys, NaN, nesting deeper than ``max_depth``,
    text over ``max_bytes`` (8 MiB), an integer of more than 4300 digits or a str with a
    lone surrogate are an EnvelopeError.

    >>> parse_json(b'{"n": 12.30}')
    {'n': Decimal('12.30')}
    """
    ...

def sign_text(message: _Envelope, app_secret: str, *, key_order: _KeyOrder = "ordinal") -> str:
    """The exact text SM2 signs, ``key=<app_secret>`` at its end (not masked: a secret)."""
def derive_sm4_key(app_id: str, app_secret: str) -> bytes: ...
def diagnose(envelope: _Envelope, app_secret: str, public_key: _PublicKeys) -> Diagnosis:
    """Why does a peer reject this envelope's signature? ``public_key`` is the signer's key,
    or a list of the keys it may have used (``creds.peer_public_keys``)."""
def sign_many(private_key: SM2PrivateKey, messages: Iterable[bytes], *, uid: bytes = ...,
              threads: Optional[int] = None) -> list[bytes]: ...
def verify_many(public_key: SM2PublicKey, messages: Iterable[bytes], signatures: Iterable[bytes], *,
                uid: bytes = ..., threads: Optional[int] = None) -> list[bool]: ...
