"""The ``medpay`` command.

``medpay sandbox``   run the payment-center sandbox
``medpay demo``      a day at the counter against a sandbox, printed as a timeline
``medpay keygen``    an SM2 key pair, in hex, Base64 and PEM
``medpay sign-text`` the sign text of a JSON message (the appSecret masked)
``medpay pack``      a JSON ``data`` file into a signed, encrypted envelope
``medpay unpack``    an envelope file: verified, decrypted
``medpay doctor``    why a peer rejects an envelope's signature

Secrets (the appSecret, private keys) are read from environment variables or files,
never from the command line (where ``ps`` and the shell history would keep them), and
are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional, Sequence

from ._native import Credentials
from .callbacks import read_json_object
from .errors import EnvelopeError, KeyFormatError, MedpayError
from .models import BY_PATH
from .sandbox.config import institution_credentials

EXIT_USAGE = 2
EXIT_FAIL = 1


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


# ------------------------------------------------------------------------ reading input


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror}") from None


def _read_json(path: str) -> dict[str, Any]:
    """A JSON object from a file, read as every body is (the native core's parser: an
    amount keeps its literal, 100.00 stays 100.00; duplicate keys and NaN refused)."""
    try:
        return read_json_object(_read_text(path))
    except EnvelopeError as e:
        raise CliError(f"{path} is not a JSON object: {e}") from None


def _optional_secret(value_env: Optional[str], value_file: Optional[str], what: str) -> Optional[str]:
    """A secret from ``--x-env NAME`` (an environment variable) or ``--x-file PATH``, as
    given, or None when neither is given. It is handed to Credentials, which takes the
    appSecret without surrounding white space (a file's final newline) itself."""
    if value_env:
        v = os.environ.get(value_env)
        if v is None or not v.strip():
            raise CliError(f"{what}: environment variable {value_env} is not set")
        return v
    if value_file:
        v = _read_text(value_file)
        if not v.strip():
            raise CliError(f"{what}: {value_file} is empty")
        return v
    return None


def _secret(value_env: Optional[str], value_file: Optional[str], what: str) -> str:
    """:func:`_optional_secret`, required, without surrounding white space: for sign-text
    and doctor, which hand it to ``sign_text``/``diagnose``, and those take the secret
    verbatim (a file's final newline would be signed as part of it)."""
    v = _optional_secret(value_env, value_file, what)
    if v is None:
        raise CliError(f"{what} is required: give --{what}-env VAR or --{what}-file PATH")
    return v.strip()


def _key_text(value: Optional[str]) -> Optional[str]:
    """A public key given on the command line: the key itself, or @PATH / a file path."""
    if value is None:
        return None
    if value.startswith("@"):
        return _read_text(value[1:]).strip()
    if os.path.isfile(value):
        return _read_text(value).strip()
    return value


def _credentials(args: argparse.Namespace, *, need_private: bool, need_public: bool) -> Credentials:
    """Credentials from ``--credentials FILE`` (JSON: appId, appSecret, privateKey,
    peerPublicKey; or a sandbox config, read by ``institution_credentials``) and/or
    flags; flags win."""
    doc: dict[str, Any] = {}
    if getattr(args, "credentials", None):
        doc = _read_json(args.credentials)
        if "institutions" in doc:
            try:
                sandbox = institution_credentials(doc, args.org_codg)
            except MedpayError as e:
                raise CliError(f"{args.credentials}: {e}") from None
            private_key, peer = sandbox.private_key, sandbox.peer_public_key
            doc = {"appId": sandbox.app_id, "appSecret": sandbox.app_secret,
                   "privateKey": private_key.to_hex() if private_key else None,
                   "peerPublicKey": peer.to_hex() if peer else None}
    app_id = args.app_id or doc.get("appId")
    secret = _optional_secret(args.secret_env, args.secret_file, "secret") or doc.get("appSecret")
    private = _optional_secret(args.private_key_env, args.private_key_file, "private-key") or doc.get("privateKey")
    public = _key_text(args.peer_public_key) or doc.get("peerPublicKey") or doc.get("publicKey")
    if not app_id:
        raise CliError("appId is required: --app-id or --credentials FILE")
    if not secret:
        raise CliError("appSecret is required: --secret-env VAR, --secret-file PATH or --credentials FILE")
    if need_private and not private:
        raise CliError("our private key is required: --private-key-env, --private-key-file or --credentials")
    if need_public and not public:
        raise CliError("the peer's public key is required: --peer-public-key KEY|@FILE or --credentials")
    try:
        return Credentials(str(app_id), str(secret), private or None, public or None,
                           key_order=getattr(args, "key_order", "ordinal"))
    except KeyFormatError as e:
        raise CliError(f"a key could not be read: {e}") from None


def _add_credential_flags(p: argparse.ArgumentParser, *, private: bool = True, public: bool = True) -> None:
    g = p.add_argument_group("credentials (secrets from environment variables or files only)")
    g.add_argument("--credentials", metavar="FILE",
                   help="JSON with appId, appSecret, privateKey, peerPublicKey (or a sandbox config)")
    g.add_argument("--org-codg", metavar="CODE", help="with a sandbox config of several institutions: whose")
    g.add_argument("--app-id", help="the appId (渠道 id)")
    g.add_argument("--secret-env", metavar="VAR", help="environment variable holding the appSecret")
    g.add_argument("--secret-file", metavar="PATH", help="file holding the appSecret")
    if private:
        g.add_argument("--private-key-env", metavar="VAR", help="environment variable holding our SM2 private key")
        g.add_argument("--private-key-file", metavar="PATH", help="file holding our SM2 private key (hex, Base64 or PEM)")
    else:
        p.set_defaults(private_key_env=None, private_key_file=None)
    if public:
        g.add_argument("--peer-public-key", metavar="KEY|@FILE", help="the peer's SM2 public key, or @file")
    else:
        p.set_defaults(peer_public_key=None)
    g.add_argument("--key-order", choices=("ordinal", "case_insensitive"), default="ordinal",
                   help="key order of nested JSON in the sign text (docs/protocol.md §2)")


def _dump(obj: Any) -> str:
    """Indented JSON with every Decimal written as its literal (never through a float)."""
    text = json.dumps(_mark_decimals(obj), ensure_ascii=False, indent=2)
    # json escapes the NUL markers as \u0000: drop them with their quotes.
    return text.replace('"\\u0000', "").replace('\\u0000"', "")


def _mark_decimals(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return f"\u0000{obj}\u0000"
    if isinstance(obj, dict):
        return {k: _mark_decimals(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_mark_decimals(v) for v in obj]
    return obj


# ------------------------------------------------------------------------------ commands


def cmd_keygen(args: argparse.Namespace) -> int:
    """A new SM2 key pair in every format integrators are asked for."""
    import medpay_core as mp

    key = mp.SM2PrivateKey.generate()
    pub = key.public_key()
    if args.out:
        prefix = Path(args.out)
        if prefix.parent and not prefix.parent.exists():
            raise CliError(f"directory {prefix.parent} does not exist")
        files = {
            f"{prefix}.key.pem": (key.to_pem(), 0o600),
            f"{prefix}.key.hex": (key.to_hex() + "\n", 0o600),
            f"{prefix}.key.b64": (key.to_base64() + "\n", 0o600),
            f"{prefix}.pub.pem": (pub.to_pem(), 0o644),
            f"{prefix}.pub.hex": (pub.to_hex() + "\n", 0o644),
            f"{prefix}.pub.b64": (pub.to_base64() + "\n", 0o644),
        }
        for path in files:
            if os.path.exists(path) and not args.force:
                raise CliError(f"{path} exists (use --force to overwrite)")
        for path, (text, mode) in files.items():
            _write_file(path, text, mode)
            print(f"wrote {path} ({oct(mode)[2:]})")
        print(f"public key (hex, 04||X||Y): {pub.to_hex()}")
        return 0
    if sys.stdout.isatty() and not args.yes:
        print("note: the private key is printed below; use --out PREFIX to write files (0600) instead",
              file=sys.stderr)
    print("# SM2 private key (keep it secret)")
    print(f"private.hex    {key.to_hex()}")
    print(f"private.base64 {key.to_base64()}")
    print(key.to_pem().rstrip())
    print()
    print("# SM2 public key (give this to the peer)")
    print(f"public.hex     {pub.to_hex()}")
    print(f"public.base64  {pub.to_base64()}")
    print(pub.to_pem().rstrip())
    return 0


def _write_file(path: str, text: str, mode: int) -> None:
    """Write with ``mode`` from creation on: a private key is never readable by others,
    not even for a moment."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # O_CREAT's mode is masked by umask and ignored for an existing file
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            fd = -1
            f.write(text)
    finally:
        if fd >= 0:
            os.close(fd)


def cmd_sign_text(args: argparse.Namespace) -> int:
    """Print the sign text of a JSON message, ``&key=`` masked unless asked."""
    import medpay_core as mp

    secret = _secret(args.secret_env, args.secret_file, "secret")
    text = _read_text(args.file)
    try:
        st = mp.sign_text(text, secret, key_order=args.key_order)
    except mp.MedpayError as e:
        raise CliError(f"{type(e).__name__}: {e}") from None
    if not args.show_secret:
        head, sep, _ = st.rpartition("&key=")
        st = head + sep + "********" if sep else st
    print(st)
    return 0


def cmd_pack(args: argparse.Namespace) -> int:
    """A JSON ``data`` file into a signed, encrypted envelope."""
    import medpay_core as mp

    data = _read_json(args.file)
    codec = mp.EnvelopeCodec(_credentials(args, need_private=True, need_public=False))
    extra: dict[str, Any] = {}
    if args.code is not None:
        extra["code"] = int(args.code) if args.code.lstrip("-").isdigit() else args.code
    if args.message is not None:
        extra["message"] = args.message
    if args.success is not None:
        extra["success"] = args.success == "true"
    try:
        if args.pretty:
            print(_dump(codec.pack(data, timestamp=args.timestamp, **extra)))
        else:
            sys.stdout.write(codec.pack_json(data, timestamp=args.timestamp, **extra).decode("utf-8") + "\n")
    except mp.MedpayError as e:
        raise CliError(f"{type(e).__name__}: {e}") from None
    return 0


def cmd_unpack(args: argparse.Namespace) -> int:
    """An envelope file, verified with the peer's key and decrypted."""
    import medpay_core as mp

    body = _read_text(args.file).encode("utf-8")
    codec = mp.EnvelopeCodec(_credentials(args, need_private=False, need_public=not args.no_verify))
    try:
        msg = codec.unpack(body, require_signature=not args.no_verify)
    except mp.SignatureError as e:
        print(f"signature: {e}", file=sys.stderr)
        print("run `medpay doctor` on this file to see why", file=sys.stderr)
        return EXIT_FAIL
    except mp.MedpayError as e:
        raise CliError(f"{type(e).__name__}: {e}") from None
    if args.data_only:
        print(_dump(msg.data))
        return 0
    fields = {k: v for k, v in dict(msg.fields).items() if k not in ("signData", "encData")}
    print(_dump({"signed": msg.signed, "fields": fields, "data": msg.data}))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Why a peer rejected an envelope: the diagnosis, for a person."""
    import medpay_core as mp

    secret = _secret(args.secret_env, args.secret_file, "secret")
    key = _key_text(args.public_key)
    if not key:
        raise CliError("--public-key KEY|@FILE: the public key of whoever signed the envelope")
    text = _read_text(args.file)
    try:
        d = mp.diagnose(text, secret, key)
    except mp.MedpayError as e:
        raise CliError(f"{type(e).__name__}: {e}") from None
    print(d.report())
    return 0 if d.verifies else EXIT_FAIL


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Run the sandbox in the foreground."""
    from .sandbox.config import generate_config, load_config, write_private_json

    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise CliError("the sandbox needs the server extra: pip install 'medpay-core[server]'") from None
    db = Path(args.db)
    if db.parent and not db.parent.exists():
        raise CliError(f"directory {db.parent} does not exist")
    if args.config:
        path = Path(args.config)
    else:
        # Next to the db, and reused on the next start: a restart keeps the keys that
        # the institution's side was set up with.
        path = db.with_name(db.name + ".config.json")
        if not path.exists():
            raw = generate_config(notify_url=args.notify_url, return_url=args.return_url)
            write_private_json(path, raw)
            print(f"wrote a new sandbox config with fresh keys to {path}", flush=True)
            print("  the institution's side (appId, appSecret, its private key, the center's public key)"
                  " is under \"client\" in that file: load it with"
                  f" medpay_core.sandbox.institution_credentials({str(path)!r})", flush=True)
        else:
            print(f"using the sandbox config {path}", flush=True)
    try:
        config = load_config(path)
    except (OSError, ValueError) as e:
        raise CliError(f"config {path}: {e}") from None
    from .sandbox.server import serve

    import logging

    # The sandbox's event log (uploads, payments, refunds, notices and their retries)
    # goes to stderr next to uvicorn's own lines.
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}: the sandbox's /sandbox/* pages have no authentication",
              file=sys.stderr, flush=True)
    print(f"medpay sandbox: http://{args.host}:{args.port}/org/local/api/hos/<name>  db={db}  "
          f"institutions={len(config.institutions)} strictAuth={config.strict_auth} "
          f"signatures={'lenient' if config.lenient_signature else 'as the center SDK'}", flush=True)
    print(f"  e-voucher page: http://{args.host}:{args.port}/sandbox/voucher", flush=True)
    try:
        serve(config, str(db), host=args.host, port=args.port, log_level=args.log_level)
    except MedpayError as e:  # the database in use by another sandbox, or from a newer medpay
        raise CliError(str(e)) from None
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """A day at the counter (see medpay_core.sandbox.demo)."""
    from .sandbox.demo import run_demo

    return run_demo(verbose=args.verbose)


# ------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``medpay``."""
    from . import PROTOCOL_VERSION, __version__

    p = argparse.ArgumentParser(prog="medpay", description="China medical-insurance mobile payment 2.0.1 tools")
    p.add_argument("--version", action="version", version=f"medpay {__version__} (interface {PROTOCOL_VERSION})")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    served = "/".join(sorted(t.code for t in BY_PATH.values()))
    s = sub.add_parser("sandbox", help="run the payment-center sandbox",
                       description=f"Serve the center's side of {served}, the cashier page, "
                                   "6204 redirects and 6302 notices. Without --config a config with fresh keys is "
                                   "written next to the db (and reused on the next start).")
    s.add_argument("--config", metavar="FILE", help="sandbox config JSON")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--db", required=True, metavar="PATH", help="SQLite file (created if missing)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--notify-url", default="http://127.0.0.1:8001/medpay/notify",
                   help="for a generated config: the institution's 6302 notifyUrl")
    s.add_argument("--return-url", default="http://127.0.0.1:8001/medpay/return",
                   help="for a generated config: the institution's 6204 returnUrl")
    s.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    s.set_defaults(func=cmd_sandbox)

    d = sub.add_parser("demo", help="play a day at the counter against a local sandbox")
    d.add_argument("--verbose", action="store_true", help="also print every sandbox event")
    d.set_defaults(func=cmd_demo)

    k = sub.add_parser("keygen", help="generate an SM2 key pair (hex, Base64, PEM)")
    k.add_argument("--out", metavar="PREFIX", help="write PREFIX.key.{pem,hex,b64} (0600) and PREFIX.pub.{pem,hex,b64}")
    k.add_argument("--force", action="store_true", help="overwrite existing files")
    k.add_argument("--yes", action="store_true", help="print the private key to a terminal without the note")
    k.set_defaults(func=cmd_keygen)

    st = sub.add_parser("sign-text", help="print the sign text of a JSON message")
    st.add_argument("file", metavar="FILE", help="the message JSON (plaintext data, or encData), - for stdin")
    st.add_argument("--secret-env", metavar="VAR", help="environment variable holding the appSecret")
    st.add_argument("--secret-file", metavar="PATH", help="file holding the appSecret")
    st.add_argument("--key-order", choices=("ordinal", "case_insensitive"), default="ordinal")
    st.add_argument("--show-secret", action="store_true", help="print the appSecret at the end instead of ********")
    st.set_defaults(func=cmd_sign_text)

    pk = sub.add_parser("pack", help="sign and encrypt a JSON data file into an envelope")
    pk.add_argument("file", metavar="FILE", help="the data JSON, - for stdin")
    _add_credential_flags(pk, public=False)
    pk.add_argument("--timestamp", help="the envelope timestamp (default: epoch milliseconds now)")
    pk.add_argument("--code", help="add a response code (packing as the center)")
    pk.add_argument("--message", help="add a response message")
    pk.add_argument("--success", choices=("true", "false"), help="add a response success flag")
    pk.add_argument("--pretty", action="store_true", help="indent the output")
    pk.set_defaults(func=cmd_pack)

    up = sub.add_parser("unpack", help="verify and decrypt an envelope file")
    up.add_argument("file", metavar="FILE", help="the envelope JSON, - for stdin")
    _add_credential_flags(up, private=False)
    up.add_argument("--no-verify", action="store_true", help="decrypt without checking the signature")
    up.add_argument("--data-only", action="store_true", help="print only the decrypted data")
    up.set_defaults(func=cmd_unpack)

    dr = sub.add_parser("doctor", help="explain why a peer rejects an envelope's signature")
    dr.add_argument("file", metavar="FILE", help="the rejected envelope JSON, - for stdin")
    dr.add_argument("--public-key", metavar="KEY|@FILE", help="the signer's SM2 public key")
    dr.add_argument("--secret-env", metavar="VAR", help="environment variable holding the appSecret")
    dr.add_argument("--secret-file", metavar="PATH", help="file holding the appSecret")
    dr.set_defaults(func=cmd_doctor)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``medpay`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CliError as e:
        print(f"medpay {args.command}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
