"""The sandbox's configuration: the center's key, the institutions it knows, the rules.

The file is JSON::

    {
      "privateKey": "<the center's SM2 private key, any format of docs/protocol.md §5>",
      "institutions": [
        {"appId": "...", "appSecret": "...", "publicKey": "<the institution's SM2 public key>",
         "notifyUrl": "http://.../notify", "returnUrl": "http://.../return",
         "plainNotify": false, "name": "Demo Hospital", "orgCodg": "H..."}
      ],
      "strictAuth": false,
      "lenientSignature": false,
      "orderTtlMinutes": 0,
      "ratios": {"fund": "0.6", "acct": "0.2", "other": "0"},
      "notify": {"maxAttempts": 8, "baseDelay": 1.0, "maxDelay": 300.0, "timeout": 10.0}
    }

A generated file (``generate_config``) also holds, under ``"client"``, what the
institution needs to talk to the sandbox (its private key, the center's public key), so
one file sets up both sides of a test; :func:`institution_credentials` (or
``Credentials.from_sandbox_config``) reads them back.

``lenientSignature`` (default false): the sandbox verifies a request as the center's SDK
does, over the SDK's sign text alone (nested keys in ordinal order, fastjson 1.x
escaping), and refuses data the SDK cannot sign. True accepts what the library's own
verification accepts (either nested key order, either escaping), for an integrator who
knowingly targets a center that does.

``orderTtlMinutes`` (default 0: never): an order left unpaid that long after its fee
upload expires; paying it is refused (4007) and its cashier page shows 订单已过期 with no
way to pay. The spec sets no limit, so the sandbox sets none unless asked, to test the
expired page and a HIS's handling of it.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from .._native import Credentials, EnvelopeCodec, SM2PrivateKey, SM2PublicKey, parse_json
from ..errors import EnvelopeError, KeyFormatError, MedpayError
from .split import Ratios

#: The institution's name when a config gives none: the cashier shows it to the patient.
DEFAULT_INSTITUTION_NAME = "沙箱测试医院"


@dataclass(frozen=True)
class NotifyPolicy:
    """How the 6302 notice is retried: delay ``baseDelay * 2**(attempt-1)`` capped at
    ``maxDelay`` seconds, at most ``maxAttempts`` posts, then the notice is FAILED."""

    max_attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 300.0
    timeout: float = 10.0

    def delay_after(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed post."""
        return min(self.base_delay * 2.0 ** max(attempts - 1, 0), self.max_delay)

    @classmethod
    def from_config(cls, raw: Optional[Mapping[str, Any]]) -> "NotifyPolicy":
        raw = dict(raw or {})
        p = cls(
            max_attempts=int(raw.get("maxAttempts", cls.max_attempts)),
            base_delay=float(raw.get("baseDelay", cls.base_delay)),
            max_delay=float(raw.get("maxDelay", cls.max_delay)),
            timeout=float(raw.get("timeout", cls.timeout)),
        )
        if p.max_attempts < 1 or p.base_delay < 0 or p.max_delay < 0 or p.timeout <= 0:
            raise ValueError("notify: maxAttempts >= 1, delays >= 0 and timeout > 0")
        return p

    def to_config(self) -> dict[str, Any]:
        return {
            "maxAttempts": self.max_attempts,
            "baseDelay": self.base_delay,
            "maxDelay": self.max_delay,
            "timeout": self.timeout,
        }


@dataclass(frozen=True)
class Institution:
    """One institution (定点医药机构) the sandbox serves, keyed by ``app_id``."""

    app_id: str
    app_secret: str
    public_key: SM2PublicKey
    notify_url: str
    return_url: str
    plain_notify: bool = False
    name: str = DEFAULT_INSTITUTION_NAME
    org_codg: Optional[str] = None

    def codec(self, center_key: SM2PrivateKey) -> EnvelopeCodec:
        """The center's codec for this institution: signs with the center's key,
        verifies with the institution's."""
        return EnvelopeCodec(Credentials(self.app_id, self.app_secret, center_key, self.public_key))


@dataclass(frozen=True)
class SandboxConfig:
    """The parsed configuration. Build it with :func:`load_config` or
    :func:`parse_config`; ``raw`` keeps the JSON it came from."""

    private_key: SM2PrivateKey
    institutions: dict[str, Institution]
    strict_auth: bool = False
    #: Accept the signatures the library's lenient verification accepts (see the module doc).
    lenient_signature: bool = False
    #: Minutes an unpaid order stays payable after its fee upload (0: no limit).
    order_ttl_minutes: float = 0
    ratios: Ratios = field(default_factory=Ratios)
    notify: NotifyPolicy = field(default_factory=NotifyPolicy)
    public_url: Optional[str] = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def institution(self, app_id: str) -> Optional[Institution]:
        return self.institutions.get(app_id)


def _need(obj: Mapping[str, Any], key: str, where: str) -> Any:
    value = obj.get(key)
    if value is None or value == "":
        raise ValueError(f"config: {where} needs {key!r}")
    return value


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    # bool("false") is True: a flag written as a string would silently mean the opposite.
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"config: {key} must be true or false, not {value!r}")
    return value


def _minutes(raw: Mapping[str, Any], key: str) -> float:
    value = raw.get(key, 0)
    # bool is an int to Python; true would silently mean one minute.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 10 ** 7:
        raise ValueError(f"config: {key} must be a number of minutes (0 or more), not {value!r}")
    return float(value)


def parse_config(raw: Mapping[str, Any]) -> SandboxConfig:
    """Check and parse a configuration dict; errors name the offending entry (never a
    key's value)."""
    try:
        center = SM2PrivateKey.from_string(str(_need(raw, "privateKey", "the top level")))
    except KeyFormatError as bad:
        raise ValueError(f"config: privateKey is not an SM2 private key ({bad})") from None
    insts: dict[str, Institution] = {}
    entries = raw.get("institutions") or []
    if not isinstance(entries, list) or not entries:
        raise ValueError("config: 'institutions' must be a non-empty list")
    for i, entry in enumerate(entries):
        e: Mapping[str, Any] = entry
        where = f"institutions[{i}]"
        app_id = str(_need(e, "appId", where))
        if len(app_id) < 16:
            # The SM4 data key is made from the first 16 characters of the appId.
            raise ValueError(f"config: {where}.appId must have at least 16 characters")
        if app_id in insts:
            raise ValueError(f"config: appId {app_id} appears twice")
        try:
            pub = SM2PublicKey.from_string(str(_need(e, "publicKey", where)))
        except KeyFormatError as ex:
            raise ValueError(f"config: {where}.publicKey is not an SM2 public key ({ex})") from None
        insts[app_id] = Institution(
            app_id=app_id,
            app_secret=str(_need(e, "appSecret", where)),
            public_key=pub,
            notify_url=str(_need(e, "notifyUrl", where)),
            return_url=str(_need(e, "returnUrl", where)),
            plain_notify=bool(e.get("plainNotify", False)),
            name=str(e.get("name") or DEFAULT_INSTITUTION_NAME),
            org_codg=e.get("orgCodg") or None,
        )
    public_url = raw.get("publicUrl") or None
    return SandboxConfig(
        private_key=center,
        institutions=insts,
        strict_auth=bool(raw.get("strictAuth", False)),
        lenient_signature=_flag(raw, "lenientSignature"),
        order_ttl_minutes=_minutes(raw, "orderTtlMinutes"),
        ratios=Ratios.from_config(raw.get("ratios")),
        notify=NotifyPolicy.from_config(raw.get("notify")),
        public_url=public_url.rstrip("/") if public_url else None,
        raw=dict(raw),
    )


def load_config(path: Union[str, "os.PathLike[str]"]) -> SandboxConfig:
    """Read and parse a configuration file.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "center.db.config.json")
    >>> write_private_json(path, generate_config())
    >>> len(load_config(path).institutions)
    1
    """
    return parse_config(_raw_config(path))


ConfigSource = Union[str, "os.PathLike[str]", SandboxConfig, Mapping[str, Any]]


def _raw_config(config: ConfigSource) -> Mapping[str, Any]:
    if isinstance(config, SandboxConfig):
        return config.raw
    if isinstance(config, Mapping):
        return config
    if isinstance(config, (str, os.PathLike)):
        try:
            with open(config, "rb") as f:
                raw = parse_json(f.read())
        except OSError as e:
            raise MedpayError(f"sandbox config {os.fspath(config)}: {e.strerror}") from None
        except EnvelopeError as e:
            raise MedpayError(f"sandbox config {os.fspath(config)} is not JSON the core reads: {e}") from None
        if not isinstance(raw, dict):
            raise MedpayError(f"sandbox config {os.fspath(config)} is not a JSON object")
        return raw
    raise TypeError(f"a sandbox config is a path, a SandboxConfig or a dict, not {type(config).__name__}")


def institution_credentials(config: ConfigSource, org_codg: Optional[str] = None) -> Credentials:
    """The :class:`~medpay_core.Credentials` of one institution of a sandbox config: its
    appId and appSecret, its private key and the sandbox center's public key, as the
    config's ``"client"`` section holds them (``medpay sandbox`` writes it next to the
    database, ``generate_config`` returns it).

    ``config`` is the path of that file, its dict, or a :class:`SandboxConfig`. With
    several institutions ``org_codg`` picks one (its ``orgCodg``). A
    :class:`~medpay_core.errors.MedpayError` says what is missing (no such file, no
    ``"client"`` section: a hand-written config does not hold the institution's private
    key; several institutions and no ``org_codg``; an unknown ``org_codg``); a
    :class:`~medpay_core.errors.KeyFormatError` that a key cannot be read or that the
    ``"client"`` keys are not the pair of the institution's and the center's keys.

    >>> import medpay_core as mp
    >>> raw = generate_config(org_codg="H35010200001")
    >>> creds = institution_credentials(raw)
    >>> creds.app_id == raw["institutions"][0]["appId"]
    True
    >>> mp.EnvelopeCodec(creds)  # doctest: +ELLIPSIS
    <EnvelopeCodec ...>
    """
    raw = _raw_config(config)
    entries = raw.get("institutions")
    clients = raw.get("client")
    if not isinstance(clients, list) or not clients:
        raise MedpayError(
            "the sandbox config has no 'client' section: only a config the sandbox generated holds the "
            "institution's private key; build mp.Credentials from your own key and the center's public key")
    if not isinstance(entries, list) or not entries:
        raise MedpayError("the sandbox config has no 'institutions'")
    if org_codg is not None:
        chosen = [e for e in entries if isinstance(e, Mapping) and e.get("orgCodg") == org_codg]
        if not chosen:
            known = sorted(str(e.get("orgCodg")) for e in entries if isinstance(e, Mapping) and e.get("orgCodg"))
            raise MedpayError(f"no institution with orgCodg {org_codg!r} in the sandbox config "
                              f"(its orgCodg: {', '.join(known) or 'none'})")
    elif len(entries) > 1:
        known = sorted(str(e.get("orgCodg")) for e in entries if isinstance(e, Mapping) and e.get("orgCodg"))
        raise MedpayError(f"the sandbox config has {len(entries)} institutions: pass org_codg= to pick one "
                          f"(their orgCodg: {', '.join(known) or 'none set'})")
    else:
        chosen = entries[:1]
    inst = chosen[0]
    app_id = inst.get("appId") if isinstance(inst, Mapping) else None
    client = next((c for c in clients if isinstance(c, Mapping) and c.get("appId") == app_id), None)
    if client is None:
        raise MedpayError(f"the sandbox config's 'client' section has no entry for appId {app_id!r}")
    missing = [k for k in ("appId", "appSecret", "privateKey", "peerPublicKey") if not client.get(k)]
    if missing:
        raise MedpayError(f"the sandbox config's 'client' entry for {app_id!r} lacks {', '.join(missing)}")
    creds = Credentials(str(client["appId"]), str(client["appSecret"]), str(client["privateKey"]),
                        str(client["peerPublicKey"]))
    # A hand-edited file can pair the wrong keys; say so now, not at the first signature.
    key = creds.private_key
    if key is not None and inst.get("publicKey") and key.public_key() != SM2PublicKey.from_string(str(inst["publicKey"])):
        raise KeyFormatError(f"the 'client' private key of {app_id!r} is not the pair of its institution's publicKey")
    if raw.get("privateKey") and creds.peer_public_key != SM2PrivateKey.from_string(str(raw["privateKey"])).public_key():
        raise KeyFormatError(f"the 'client' peerPublicKey of {app_id!r} is not the sandbox center's public key")
    return creds


def _random_id(n: int = 32) -> str:
    # Upper-case hex like the appIds and appSecrets the center hands out.
    return secrets.token_hex(n // 2).upper()


def generate_config(
    *,
    notify_url: str = "http://127.0.0.1:8000/medpay/notify",
    return_url: str = "http://127.0.0.1:8000/medpay/return",
    name: str = DEFAULT_INSTITUTION_NAME,
    org_codg: Optional[str] = None,
    institutions: int = 1,
) -> dict[str, Any]:
    """A fresh configuration dict with new keys for the center and ``institutions``
    institutions. Each institution's private key and the center's public key are kept
    under ``"client"`` so the file also configures the client side. With ``org_codg``
    the (first) institution accepts only uploads with that orgCodg; without, any."""
    center = SM2PrivateKey.generate()
    entries, clients = [], []
    for i in range(institutions):
        key = SM2PrivateKey.generate()
        app_id, secret = _random_id(), _random_id()
        suffix = "" if institutions == 1 else f" {i + 1}"
        entry = {
            "appId": app_id,
            "appSecret": secret,
            "publicKey": key.public_key().to_hex(),
            "notifyUrl": notify_url,
            "returnUrl": return_url,
            "plainNotify": False,
            "name": name + suffix,
        }
        if org_codg:
            # The others: the same length as the first (orgCodg is at most 12 characters),
            # its tail replaced by the institution's number.
            n = str(i + 1)
            entry["orgCodg"] = org_codg if i == 0 else org_codg[:max(len(org_codg) - max(len(n), 2), 0)] + n.zfill(2)
        entries.append(entry)
        clients.append(
            {
                "appId": app_id,
                "appSecret": secret,
                "privateKey": key.to_hex(),
                "peerPublicKey": center.public_key().to_hex(),
            }
        )
    return {
        "privateKey": center.to_hex(),
        "institutions": entries,
        "strictAuth": False,
        "lenientSignature": False,
        "ratios": Ratios().to_config(),
        "notify": NotifyPolicy().to_config(),
        "client": clients,
    }


def write_private_json(path: Union[str, "os.PathLike[str]"], obj: Any) -> None:
    """Write JSON readable by the owner only (it holds keys): the file is created 0600
    before anything is written to it."""
    path = Path(path)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
