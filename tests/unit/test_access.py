"""The password gate's rules (core.access): off by default, constant-time checks, no weak passwords
where the network can reach the app."""

from __future__ import annotations

import base64
import inspect
from pathlib import Path

import pytest

from core import access
from core.access import GateConfig, gate_config, is_loopback, sign_in, startup_refusal, weakness

STRONG = "correct horse battery staple"


def test_off_without_a_password_anywhere() -> None:
    assert not gate_config({}, {}).enabled
    assert not gate_config({"REVIEW_STUDIO_PASSWORD": "   "}, {"password": ""}).enabled


def test_the_environment_wins_over_secrets() -> None:
    config = gate_config({"REVIEW_STUDIO_PASSWORD": STRONG}, {"password": "other one entirely"})
    assert config.team_password == STRONG
    assert gate_config({}, {"password": STRONG}).team_password == STRONG


def test_team_password_signs_in_under_the_typed_name() -> None:
    config = GateConfig(team_password=STRONG)
    assert sign_in(config, "  Alex   Doe ", STRONG) == "Alex Doe"
    assert sign_in(config, "Alex", STRONG + " ") is None
    assert sign_in(config, "Alex", "") is None
    assert sign_in(config, "   ", STRONG) is None


def test_personal_passwords_fix_who_someone_is() -> None:
    config = gate_config({}, {"passwords": {"Alex": STRONG, "Sam": "another long passphrase"}})
    assert config.personal and config.team_password is None
    assert sign_in(config, "alex", STRONG) == "Alex"  # the configured spelling
    assert sign_in(config, "Sam", STRONG) is None  # Alex's password does not make you Sam
    assert sign_in(config, "Nobody", STRONG) is None
    assert sign_in(config, "Nobody", "") is None


def test_passwords_are_compared_in_constant_time() -> None:
    assert "hmac.compare_digest" in inspect.getsource(access._equal)
    assert "==" not in inspect.getsource(access._equal)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "shorter than 12"),
        ("reviewstudio", "most common"),
        ("Password1234", "most common"),
        ("aaaaaaaaaaaaaaaa", "too few different"),
        ("abababababababab", "too few different"),
    ],
)
def test_weak_passwords(password: str, problem: str) -> None:
    assert problem in (weakness(password) or "")


def test_a_long_passphrase_is_not_weak() -> None:
    assert weakness(STRONG) is None


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("", False),
        (None, False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(address: str | None, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_a_weak_password_is_refused_only_where_the_network_reaches() -> None:
    weak = GateConfig(team_password="letmein")
    refusal = startup_refusal(weak, "0.0.0.0") or ""
    assert "too weak" in refusal and "127.0.0.1" in refusal
    assert "letmein" not in refusal  # never echo the password
    assert startup_refusal(weak, None)  # Streamlit's default listens on every interface
    assert startup_refusal(weak, "127.0.0.1") is None
    assert startup_refusal(GateConfig(team_password=STRONG), "0.0.0.0") is None
    personal = GateConfig(personal_passwords={"Alex": STRONG, "Sam": "short"})
    assert "The password of Sam" in (startup_refusal(personal, "0.0.0.0") or "")
    assert startup_refusal(GateConfig(), "0.0.0.0") is None


NOW = 1_800_000_000.0
SECRET = bytes(range(32))


def test_a_session_token_names_who_signed_in_until_it_expires() -> None:
    config = GateConfig(team_password=STRONG)
    token = access.session_token(config, SECRET, "Alex Doe", now=NOW)
    assert access.identity_from_token(config, SECRET, token, now=NOW + 60) == "Alex Doe"
    assert (
        access.identity_from_token(config, SECRET, token, now=NOW + access.SESSION_SECONDS - 1) == "Alex Doe"
    )
    assert access.identity_from_token(config, SECRET, token, now=NOW + access.SESSION_SECONDS) is None


def test_a_session_token_ends_when_the_password_changes_or_the_gate_is_off() -> None:
    token = access.session_token(GateConfig(team_password=STRONG), SECRET, "Alex", now=NOW)
    assert access.identity_from_token(GateConfig(team_password=STRONG + "!"), SECRET, token, now=NOW) is None
    assert access.identity_from_token(GateConfig(), SECRET, token, now=NOW) is None


def test_a_personal_token_cannot_be_turned_into_someone_elses() -> None:
    config = GateConfig(personal_passwords={"Sam": STRONG, "Kim": "another strong passphrase"})
    token = access.session_token(config, SECRET, "Sam", now=NOW)
    assert access.identity_from_token(config, SECRET, token, now=NOW) == "Sam"
    _, expires, signature = token.split(".")
    as_kim = f"{base64.urlsafe_b64encode(b'Kim').decode().rstrip('=')}.{expires}.{signature}"
    assert access.identity_from_token(config, SECRET, as_kim, now=NOW) is None
    # A later expiry is not accepted on the old signature either.
    name = token.split(".")[0]
    assert (
        access.identity_from_token(config, SECRET, f"{name}.{int(expires) + 3600}.{signature}", now=NOW)
        is None
    )
    with pytest.raises(ValueError):
        access.session_token(config, SECRET, "Nobody", now=NOW)


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "abc",
        "a.b.c",
        "QWxleA.notanumber.00",
        "QWxleA.²³.00",
        "%%%.1800000100.00",
        "QWxleA..",
        "x" * 600,
    ],
)
def test_damaged_tokens_sign_nobody_in(token: str | None) -> None:
    assert access.identity_from_token(GateConfig(team_password=STRONG), SECRET, token, now=NOW) is None


def test_a_token_dated_beyond_one_session_is_refused() -> None:
    # Even correctly signed (someone who knew the password once), a far-future expiry is not honoured.
    config = GateConfig(team_password=STRONG)
    far = int(NOW) + 10 * access.SESSION_SECONDS
    name = base64.urlsafe_b64encode(b"Alex").decode().rstrip("=")
    token = f"{name}.{far}.{access._signature(SECRET, STRONG, 'Alex', far)}"
    assert access.identity_from_token(config, SECRET, token, now=NOW) is None


def test_a_token_is_only_good_with_the_installation_secret_it_was_signed_with(tmp_path: Path) -> None:
    secret_file = tmp_path / "data" / "session.key"
    secret = access.session_secret(secret_file)
    assert len(secret) == 32 and access.session_secret(secret_file) == secret  # made once, then reused
    assert secret_file.stat().st_mode & 0o777 == 0o600
    config = GateConfig(team_password=STRONG)
    token = access.session_token(config, secret, "Alex", now=NOW)
    assert access.identity_from_token(config, secret, token, now=NOW) == "Alex"
    other_installation = access.session_secret(tmp_path / "elsewhere" / "session.key")
    assert access.identity_from_token(config, other_installation, token, now=NOW) is None
