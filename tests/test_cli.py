"""The ``medpay`` command."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from decimal import Decimal

import pytest

import medpay_core as mp
from medpay_core.cli import main
from sandbox_support import free_port, hostile_bodies, wait_until

APP_ID = "43AF047BBA47FC8A1AE8EFB232BDBBCB"
SECRET = "4117E877F5FA0A0188891283E4B617D5"


@pytest.fixture
def keys():
    return mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()  # institution, center


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("MEDPAY_TEST_SECRET", SECRET)
    return "MEDPAY_TEST_SECRET"


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_version_is_the_installed_packages(capsys):
    from importlib.metadata import version
    assert mp.__version__ == version("medpay-core")
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"medpay {mp.__version__} (interface 2.0.1)"


def test_keygen_prints_every_format(capsys):
    code, out, _ = run(capsys, "keygen", "--yes")
    assert code == 0
    lines = dict(line.split(None, 1) for line in out.splitlines() if line.startswith(("private.", "public.")))
    key = mp.SM2PrivateKey.from_string(lines["private.hex"])
    assert mp.SM2PrivateKey.from_string(lines["private.base64"]).to_hex() == key.to_hex()
    assert mp.SM2PublicKey.from_string(lines["public.base64"]) == key.public_key()
    assert key.public_key().to_hex() == lines["public.hex"]
    assert "BEGIN PRIVATE KEY" in out and "BEGIN PUBLIC KEY" in out


def test_keygen_writes_private_files_0600(tmp_path, capsys):
    prefix = tmp_path / "hospital"
    code, out, _ = run(capsys, "keygen", "--out", str(prefix))
    assert code == 0
    key = mp.SM2PrivateKey.from_string((tmp_path / "hospital.key.pem").read_text())
    for ext in ("key.pem", "key.hex", "key.b64"):
        path = tmp_path / f"hospital.{ext}"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert mp.SM2PrivateKey.from_string(path.read_text().strip()).to_hex() == key.to_hex()
    for ext in ("pub.pem", "pub.hex", "pub.b64"):
        assert mp.SM2PublicKey.from_string((tmp_path / f"hospital.{ext}").read_text().strip()) == key.public_key()
    assert key.to_hex() not in out  # only the public key is printed
    assert run(capsys, "keygen", "--out", str(prefix))[0] == 2  # no silent overwrite
    assert run(capsys, "keygen", "--out", str(prefix), "--force")[0] == 0


def test_sign_text_masks_the_secret(tmp_path, capsys, secret_env):
    msg = {"appId": APP_ID, "data": {"payOrdId": "ORD1", "amt": Decimal("100.00")}, "encType": "SM4",
           "signType": "SM2", "timestamp": "1692977670450", "version": "2.0.1"}
    f = tmp_path / "msg.json"
    f.write_text('{"appId":"%s","data":{"payOrdId":"ORD1","amt":100.00},"encType":"SM4","signType":"SM2",'
                 '"timestamp":"1692977670450","version":"2.0.1"}' % APP_ID)
    code, out, err = run(capsys, "sign-text", str(f), "--secret-env", secret_env)
    assert code == 0 and SECRET not in out + err
    expected = mp.sign_text(msg, SECRET)
    assert out.strip() == expected.rsplit("&key=", 1)[0] + "&key=********"
    assert '"amt":"100.00"' in out
    code, out, _ = run(capsys, "sign-text", str(f), "--secret-env", secret_env, "--show-secret")
    assert out.strip() == expected


def test_pack_then_unpack_with_a_credentials_file(tmp_path, capsys, keys):
    inst, center = keys
    ours = tmp_path / "ours.json"
    ours.write_text(json.dumps({"appId": APP_ID, "appSecret": SECRET, "privateKey": inst.to_hex(),
                                "peerPublicKey": center.public_key().to_hex()}))
    theirs = tmp_path / "theirs.json"
    theirs.write_text(json.dumps({"appId": APP_ID, "appSecret": SECRET, "privateKey": center.to_pem(),
                                  "peerPublicKey": inst.public_key().to_base64()}))
    data = tmp_path / "data.json"
    data.write_text('{"payOrdId":"ORD1","feeSumamt":100.00,"userName":"张三"}')
    code, out, err = run(capsys, "pack", str(data), "--credentials", str(ours), "--timestamp", "20261125120000")
    assert code == 0 and SECRET not in out + err and inst.to_hex() not in out
    env = json.loads(out)
    assert env["timestamp"] == "20261125120000" and "encData" in env and "data" not in env
    enc = tmp_path / "env.json"
    enc.write_text(out)
    code, out, _ = run(capsys, "unpack", str(enc), "--credentials", str(theirs))
    assert code == 0
    shown = json.loads(out)
    assert shown["signed"] is True and shown["data"]["userName"] == "张三"
    assert '"feeSumamt": 100.00' in out  # the literal, not a float
    code, out, _ = run(capsys, "unpack", str(enc), "--credentials", str(theirs), "--data-only")
    assert json.loads(out)["payOrdId"] == "ORD1"


def test_pack_unpack_with_flags_env_and_files(tmp_path, capsys, keys, secret_env, monkeypatch):
    inst, center = keys
    monkeypatch.setenv("MEDPAY_TEST_KEY", center.to_hex())
    keyfile = tmp_path / "inst.pem"
    keyfile.write_text(inst.to_pem())
    pubfile = tmp_path / "center.pub"
    pubfile.write_text(center.public_key().to_pem())
    data = tmp_path / "data.json"
    data.write_text('{"success":true}')
    code, out, _ = run(capsys, "pack", str(data), "--app-id", APP_ID, "--secret-env", secret_env,
                       "--private-key-env", "MEDPAY_TEST_KEY", "--code", "0", "--message", "成功", "--success", "true")
    assert code == 0
    reply = json.loads(out)
    assert reply["code"] == 0 and reply["success"] is True
    f = tmp_path / "reply.json"
    f.write_text(out)
    code, out, err = run(capsys, "unpack", str(f), "--app-id", APP_ID, "--secret-env", secret_env,
                         "--peer-public-key", "@" + str(pubfile))
    assert code == 0 and json.loads(out)["fields"]["message"] == "成功"
    # verified with the wrong key: exit 1 and a pointer to `medpay doctor`
    code, out, err = run(capsys, "unpack", str(f), "--app-id", APP_ID, "--secret-env", secret_env,
                         "--peer-public-key", inst.public_key().to_hex())
    assert code == 1 and "doctor" in err


def test_doctor_explains_a_rejected_envelope(tmp_path, capsys, keys, secret_env):
    inst, center = keys
    codec = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, inst, center.public_key()))
    good = tmp_path / "good.json"
    good.write_bytes(codec.pack_json({"payOrdId": "ORD1"}))
    pub = tmp_path / "inst.pub"
    pub.write_text(inst.public_key().to_pem())
    code, out, err = run(capsys, "doctor", str(good), "--public-key", "@" + str(pub), "--secret-env", secret_env)
    assert code == 0 and out.strip() and SECRET not in out + err
    bad = json.loads(good.read_text())
    bad["timestamp"] = "1"
    tampered = tmp_path / "bad.json"
    tampered.write_text(json.dumps(bad))
    code, out, _ = run(capsys, "doctor", str(tampered), "--public-key", inst.public_key().to_hex(),
                       "--secret-env", secret_env)
    assert code == 1 and out.strip() and SECRET not in out


def test_doctor_says_first_when_the_secret_is_probably_wrong_and_names_a_variant(tmp_path, capsys, keys, secret_env):
    inst, _ = keys
    other = mp.EnvelopeCodec(mp.Credentials(APP_ID, "0THER" + SECRET[5:], inst))
    f = tmp_path / "other-secret.json"
    f.write_bytes(other.pack_json({"payOrdId": "ORD1"}))
    code, out, _ = run(capsys, "doctor", str(f), "--public-key", inst.public_key().to_hex(), "--secret-env", secret_env)
    lines = out.splitlines()
    assert code == 1 and "does NOT decrypt" in lines[1] and "appSecret (or the appId) is probably wrong" in lines[2]
    # A signer that forgot "&key=": named, the secret masked.
    fields = {"appId": APP_ID, "timestamp": "1", "version": "2.0.1", "data": {"payOrdId": "ORD1"}}
    text = mp.sign_text(fields, SECRET).replace("&key=" + SECRET, "&" + SECRET)
    f.write_text(json.dumps({**fields, "signData": base64.b64encode(inst.sign(text.encode())).decode()}))
    code, out, _ = run(capsys, "doctor", str(f), "--public-key", inst.public_key().to_hex(), "--secret-env", secret_env)
    assert code == 1 and '"&key=" forgotten' in out and SECRET not in out


def test_missing_secret_is_a_usage_error(tmp_path, capsys, monkeypatch):
    f = tmp_path / "m.json"
    f.write_text("{}")
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    code, _, err = run(capsys, "sign-text", str(f))
    assert code == 2 and "--secret-env" in err
    code, _, err = run(capsys, "sign-text", str(f), "--secret-env", "NOPE_NOT_SET")
    assert code == 2 and "NOPE_NOT_SET" in err
    code, _, err = run(capsys, "pack", str(f), "--app-id", APP_ID)
    assert code == 2 and "appSecret" in err


def test_no_secret_flag_takes_a_value_on_the_command_line():
    from medpay_core.cli import build_parser

    flags = set()
    for action in build_parser()._subparsers._group_actions[0].choices.values():  # type: ignore[union-attr]
        for a in action._actions:
            flags.update(a.option_strings)
    assert "--secret" not in flags and "--private-key" not in flags
    assert {"--secret-env", "--secret-file", "--private-key-env", "--private-key-file"} <= flags


def test_demo_command(capsys):
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "== done ==" in out and "6302" in out


def test_sandbox_command_writes_and_reuses_its_config(tmp_path):
    import httpx

    db = tmp_path / "center.db"
    cfg = tmp_path / "center.db.config.json"
    port = free_port()

    def start() -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-m", "medpay_core.cli", "sandbox", "--port", str(port),
                              "--db", str(db), "--log-level", "warning"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, PYTHONUNBUFFERED="1"))

        def up() -> bool:
            if p.poll() is not None:
                raise AssertionError(p.stderr.read())  # type: ignore[union-attr]
            try:
                return httpx.get(f"http://127.0.0.1:{port}/sandbox/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, tries=1500)
        return p

    def stop(p: subprocess.Popen) -> str:
        p.terminate()
        out, _ = p.communicate(timeout=30)
        return out

    p = start()
    out = stop(p)
    assert f"wrote a new sandbox config with fresh keys to {cfg}" in out
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    first = json.loads(cfg.read_text())
    assert first["client"][0]["appId"] == first["institutions"][0]["appId"]
    p = start()
    out = stop(p)
    assert f"using the sandbox config {cfg}" in out
    assert json.loads(cfg.read_text()) == first


@pytest.mark.parametrize("kind", ["duplicate key", "NaN", "10,000-deep nesting"])
def test_pack_and_unpack_refuse_hostile_json_as_a_usage_error(tmp_path, capsys, keys, kind):
    inst, center = keys
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"appId": APP_ID, "appSecret": SECRET, "privateKey": center.to_hex(),
                                 "peerPublicKey": inst.public_key().to_hex()}))
    envelope = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, inst, center.public_key())).pack_json({"a": 1})
    bad = tmp_path / "bad.json"
    bad.write_bytes(hostile_bodies(APP_ID, envelope)[kind])
    for command in ("unpack", "pack"):
        code, out, err = run(capsys, command, str(bad), "--credentials", str(creds))
        assert code == 2 and out == "", (command, err)
        assert err.startswith(f"medpay {command}: ") and "Traceback" not in err and SECRET not in err


def test_a_credentials_file_is_read_by_the_native_parser(tmp_path, capsys):
    dup = tmp_path / "creds.json"
    dup.write_text('{"appId":"%s","appSecret":"%s","appSecret":"OTHER"}' % (APP_ID, SECRET))
    (tmp_path / "d.json").write_text("{}")
    code, _, err = run(capsys, "pack", str(tmp_path / "d.json"), "--credentials", str(dup))
    assert code == 2 and "duplicate" in err and SECRET not in err


def test_a_secret_file_with_its_final_newline_signs_as_the_secret(tmp_path, capsys, keys):
    # Credentials takes the appSecret without surrounding white space; sign-text hands the
    # secret to sign_text, which takes it verbatim, so the CLI strips it there.
    inst, center = keys
    (tmp_path / "secret").write_text(SECRET + "\n")
    (tmp_path / "key.pem").write_text(inst.to_pem() + "\n")
    data = tmp_path / "data.json"
    data.write_text('{"payOrdId":"ORD1"}')
    code, out, err = run(capsys, "pack", str(data), "--app-id", APP_ID, "--secret-file", str(tmp_path / "secret"),
                         "--private-key-file", str(tmp_path / "key.pem"))
    assert code == 0, err
    theirs = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, center, inst.public_key()))
    assert theirs.unpack(out.strip().encode()).data == {"payOrdId": "ORD1"}
    code, out, _ = run(capsys, "sign-text", str(data), "--secret-file", str(tmp_path / "secret"), "--show-secret")
    assert code == 0 and out == mp.sign_text('{"payOrdId":"ORD1"}', SECRET) + "\n"
