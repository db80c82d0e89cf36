"""What a Python user would assemble instead of medpay, for side-by-side timing.

- ``FastPeerStack``: the fastest stack available from peers: ``cryptography`` for SM4,
  ``gmssl-fast`` (GmSSL in C) for SM2 and SM3, and a straightforward canonicalizer on the
  standard library's json.
- ``PureGmsslStack``: the pure-Python ``gmssl`` package for all three.

Both reuse the canonicalizer of tests/reference.py (the independent reference).
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import reference as ref  # noqa: E402


class PureGmsslStack:
    name = "gmssl (pure Python)"

    def __init__(self, app_id, secret, private_hex, public_hex, peer_public_hex):
        self.app_id, self.secret = app_id, secret
        self.private_hex, self.public_hex, self.peer_public_hex = private_hex, public_hex, peer_public_hex

    def pack(self, data) -> bytes:
        env = ref.pack(self.app_id, self.secret, self.private_hex, self.public_hex, data)
        return ref.dumps(env).encode()

    def unpack(self, body: bytes):
        return ref.unpack(self.app_id, self.secret, self.peer_public_hex, ref.loads(body))


class FastPeerStack:
    name = "cryptography + gmssl-fast"

    def __init__(self, app_id, secret, private_hex, public_hex, peer_public_hex):
        import gmssl_fast
        from cryptography.hazmat.primitives import padding
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self.app_id, self.secret = app_id, secret
        self._padding = padding
        k0 = app_id[:16].encode()
        self._cipher = lambda key: Cipher(algorithms.SM4(key), modes.ECB())
        self.key = self._encrypt(k0, secret.encode()).hex().upper()[:16].encode()
        self.signer = gmssl_fast.SM2(private_key=private_hex.lower(), public_key=public_hex.lower())
        self.verifier = gmssl_fast.SM2(public_key=peer_public_hex.lower())

    def _encrypt(self, key, data):
        p = self._padding.PKCS7(128).padder()
        e = self._cipher(key).encryptor()
        return e.update(p.update(data) + p.finalize()) + e.finalize()

    def _decrypt(self, key, data):
        d = self._cipher(key).decryptor()
        u = self._padding.PKCS7(128).unpadder()
        return u.update(d.update(data) + d.finalize()) + u.finalize()

    def pack(self, data) -> bytes:
        msg = {"appId": self.app_id, "data": data, "encType": "SM4", "signType": "SM2",
               "timestamp": "1692977670450", "version": "2.0.1"}
        sig = self.signer.sign(ref.sign_text(msg, self.secret).encode())
        env = {k: v for k, v in msg.items() if k != "data"}
        env["encData"] = self._encrypt(self.key, ref.dumps(data).encode()).hex().upper()
        env["signData"] = base64.b64encode(sig).decode()
        return ref.dumps(env).encode()

    def unpack(self, body: bytes):
        env = ref.loads(body)
        data = ref.loads(self._decrypt(self.key, bytes.fromhex(env.pop("encData"))))
        sig = base64.b64decode(env["signData"])
        env["data"] = data
        if not self.verifier.verify(ref.sign_text(env, self.secret).encode(), sig):
            raise ValueError("signature does not verify")
        return data
