"""`Credentials.from_sandbox_config`: glue for `medpay_core.sandbox.config.institution_credentials`."""

import pytest

import medpay_core as mp
from medpay_core.sandbox import config as sandbox_config

APP_ID = "43AF047BBA47FC8A1AE8EFB232BDBBCB"
SECRET = "4117E877F5FA0A0188891283E4B617D5"


def test_from_sandbox_config_delegates_with_its_arguments(monkeypatch):
    made = mp.Credentials(APP_ID, SECRET)
    calls = []

    def institution_credentials(config, org_codg=None):
        calls.append((config, org_codg))
        return made

    monkeypatch.setattr(sandbox_config, "institution_credentials", institution_credentials)
    assert mp.Credentials.from_sandbox_config("sandbox.json") is made
    assert mp.Credentials.from_sandbox_config({"x": 1}, "H35010200001") is made
    assert mp.Credentials.from_sandbox_config({"x": 1}, org_codg="H2") is made
    assert calls == [("sandbox.json", None), ({"x": 1}, "H35010200001"), ({"x": 1}, "H2")]


def test_from_sandbox_config_passes_the_errors_through(monkeypatch):
    def institution_credentials(config, org_codg=None):
        raise mp.MedpayError("the sandbox config has no 'client' section")

    monkeypatch.setattr(sandbox_config, "institution_credentials", institution_credentials)
    with pytest.raises(mp.MedpayError, match="no 'client' section"):
        mp.Credentials.from_sandbox_config({})


@pytest.mark.skipif(not hasattr(sandbox_config, "generate_config"), reason="sandbox.config.generate_config not there yet")
def test_from_sandbox_config_reads_a_generated_config():
    raw = sandbox_config.generate_config(org_codg="H35010200001")
    creds = mp.Credentials.from_sandbox_config(raw)
    assert creds.app_id == raw["institutions"][0]["appId"] and creds.private_key is not None
    assert creds.app_id == sandbox_config.institution_credentials(raw).app_id
