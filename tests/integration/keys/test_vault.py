"""The PKCS#11 vault's failure modes: each is an HsmUnavailableError saying what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantry.errors import HsmUnavailableError, KeyMaterialError, NotFoundError
from tenantry.keys import HsmSettings, OaepHash
from tenantry.keys.pkcs11 import Pkcs11Vault
from tests.integration.keys.conftest import SoftHsm


def test_wrong_pin_is_refused_even_while_another_vault_is_logged_in(
    softhsm: SoftHsm, vault: Pkcs11Vault
) -> None:
    """A second vault in the same process with a wrong PIN does not share the login."""
    wrong = Pkcs11Vault(softhsm.module, softhsm.token, "00000000")
    with pytest.raises(HsmUnavailableError, match="refused the user PIN"):
        wrong.wrapping_key()
    right = Pkcs11Vault(softhsm.module, softhsm.token, softhsm.pin)
    assert right.wrapping_key().fingerprint == vault.wrapping_key().fingerprint
    right.close()


def test_unknown_token_and_module_are_named(softhsm: SoftHsm, tmp_path: Path) -> None:
    """A missing token label or module file says which."""
    with pytest.raises(HsmUnavailableError, match="no token labelled 'nope'"):
        Pkcs11Vault(softhsm.module, "nope", softhsm.pin).wrapping_key()
    with pytest.raises(HsmUnavailableError, match="cannot load the PKCS#11 module"):
        Pkcs11Vault(str(tmp_path / "missing.so"), softhsm.token, softhsm.pin).wrapping_key()


def test_softhsm_announces_the_oaep_hash_it_can_unwrap(vault: Pkcs11Vault) -> None:
    """The published key tells tenants which OAEP hash this token unwraps (SHA-1 on 2.6)."""
    assert vault.wrapping_key().oaep_hash in {OaepHash.SHA1, OaepHash.SHA256}
    assert f"OAEP-Hash: {vault.wrapping_key().oaep_hash}" in vault.wrapping_key().to_pem()


def test_operations_on_missing_keys_and_bad_recipients_are_named(vault: Pkcs11Vault) -> None:
    """No KEK, no signing key, a recipient that is not an RSA key: precise errors."""
    with pytest.raises(NotFoundError, match="no KEK v1 for tenant ghost"):
        vault.new_data_key("ghost", 1)
    with pytest.raises(NotFoundError, match="no signing key for tenant ghost"):
        vault.sign("ghost", b"message")
    assert not vault.destroy_kek("ghost", 1)
    assert not vault.destroy_signing_key("ghost")
    with pytest.raises(KeyMaterialError, match="recipient key"):
        vault.release_data_key("ghost", 1, b"x" * 40, b"not a key")


def test_settings_read_the_pin_from_a_file_and_name_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TENANTRY_HSM_PIN_FILE works; a missing module, PIN or PIN file is named."""
    for name in ("TENANTRY_HSM_MODULE", "TENANTRY_HSM_PIN", "TENANTRY_HSM_PIN_FILE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(HsmUnavailableError, match="no PKCS#11 module configured"):
        HsmSettings().module_path()
    with pytest.raises(HsmUnavailableError, match="no HSM PIN configured"):
        HsmSettings().user_pin()
    monkeypatch.setenv("TENANTRY_HSM_MODULE", str(tmp_path / "missing.so"))
    with pytest.raises(HsmUnavailableError, match="does not exist"):
        HsmSettings().module_path()
    (tmp_path / "pin").write_text("1234\n")
    monkeypatch.setenv("TENANTRY_HSM_PIN_FILE", str(tmp_path / "pin"))
    assert HsmSettings().user_pin() == "1234"
    assert "1234" not in repr(HsmSettings(pin="1234"))  # type: ignore[call-arg]
    monkeypatch.setenv("TENANTRY_HSM_PIN_FILE", str(tmp_path / "absent"))
    with pytest.raises(HsmUnavailableError, match="cannot read the PIN"):
        HsmSettings().user_pin()
