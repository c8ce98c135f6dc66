"""The optional password gate: who may use the app, and who they are while they label.

Off unless a password is configured; there is no default password. Two forms:
- one team password (REVIEW_STUDIO_PASSWORD, or `password` in .streamlit/secrets.toml): people type
  their name and that password, and label under that name;
- one password per person (a `[passwords]` table in secrets.toml, name = "password"): the name a person
  signs in with is who they are, and nobody can label as someone else.

The gate guards the web app only. A training worker talks to the database alone, with the database's
own credentials (DATABASE_URL).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PASSWORD_ENV = "REVIEW_STUDIO_PASSWORD"
# A signed-in browser keeps a signed token in this cookie, so a refresh does not ask again.
SESSION_COOKIE = "review_studio_session"
SESSION_SECONDS = 12 * 3600  # a working day
_MAX_TOKEN_CHARS = 512
MIN_PASSWORD_CHARS = 12
# The most common passwords of breach lists that are 12 characters or longer, plus this app's name.
_COMMON = {
    "123456789012",
    "1234567890123",
    "password1234",
    "passwordpassword",
    "qwertyuiopas",
    "qwerty123456",
    "iloveyou1234",
    "reviewstudio",
    "review studio",
    "changeme1234",
    "letmein12345",
    "administrator",
}


@dataclass(frozen=True)
class GateConfig:
    team_password: str | None = None
    personal_passwords: Mapping[str, str] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.team_password) or bool(self.personal_passwords)

    @property
    def personal(self) -> bool:
        return bool(self.personal_passwords)


def gate_config(env: Mapping[str, str], secrets: Mapping[str, Any]) -> GateConfig:
    """The environment's password wins over secrets.toml's; a `[passwords]` table makes them personal."""
    team = (env.get(PASSWORD_ENV) or str(secrets.get("password") or "")).strip() or None
    table = secrets.get("passwords") or {}
    personal = {
        str(name).strip(): str(password) for name, password in dict(table).items() if str(name).strip()
    }
    return GateConfig(team_password=None if personal else team, personal_passwords=personal)


def weakness(password: str) -> str | None:
    """Why a password is too weak to face a network, in words; None when it is fine."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"it is shorter than {MIN_PASSWORD_CHARS} characters"
    if password.lower() in _COMMON:
        return "it is one of the most common passwords"
    if len(set(password)) <= 3:
        return "it repeats too few different characters"
    return None


def is_loopback(address: str | None) -> bool:
    """Whether a listen address only this computer can reach. Empty means every interface (Streamlit's
    default), which is reachable from the network."""
    if not address:
        return False
    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def startup_refusal(config: GateConfig, address: str | None) -> str | None:
    """A reason to serve nothing, or None. A weak password is refused only where others can reach the
    app: on a laptop's loopback it guards little and costs nothing."""
    if not config.enabled or is_loopback(address):
        return None
    passwords = [("The team password", config.team_password)] if config.team_password else []
    passwords += [(f"The password of {name}", pw) for name, pw in config.personal_passwords.items()]
    for who, password in passwords:
        problem = weakness(password or "")
        if problem:
            return (
                f"{who} is too weak for an app that other computers can reach: {problem}. Set a longer "
                f"one (at least {MIN_PASSWORD_CHARS} characters, not a common one), or listen on this "
                "computer only (streamlit run app.py --server.address 127.0.0.1)."
            )
    return None


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def sign_in(config: GateConfig, name: str, password: str) -> str | None:
    """The name to label under when the password is right, else None. Same work whether or not the name
    exists, so timing does not tell which names have passwords."""
    clean = re.sub(r"\s+", " ", name).strip()
    if not clean:
        return None
    if config.personal:
        by_lower = {known.lower(): known for known in config.personal_passwords}
        known = by_lower.get(clean.lower())
        expected = config.personal_passwords[known] if known else ""
        # Compared even for an unknown name, against a value that cannot match an empty entry.
        matches = _equal(password, expected if known else "\x00" + password)
        return known if known and matches else None
    if config.team_password and _equal(password, config.team_password):
        return clean
    return None


def _password_of(config: GateConfig, identity: str) -> str | None:
    if config.personal:
        return config.personal_passwords.get(identity)
    return config.team_password


def session_secret(path: Path) -> bytes:
    """This installation's random key for session cookies, created on first use (readable by its owner
    only). Without it a stolen cookie cannot be used to test password guesses offline."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    # Written whole to a private file first, then linked into place: a process that starts at the same
    # moment finds either no key or a complete one, never a half-written one.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(secret)
    try:
        os.link(draft, path)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes()
    finally:
        draft.unlink()
    return secret


def _signature(secret: bytes, password: str, identity: str, expires: int) -> str:
    # Keyed by the password as well as the secret: changing a password ends every session signed under
    # it, and a personal token cannot be turned into someone else's without that person's password.
    key = hmac.new(secret, b"review-studio session v1\0" + password.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, f"{identity}\n{expires}".encode(), hashlib.sha256).hexdigest()


def session_token(config: GateConfig, secret: bytes, identity: str, *, now: float) -> str:
    """A cookie value that proves `identity` signed in, valid for SESSION_SECONDS from `now`. Only for
    an identity sign_in returned."""
    password = _password_of(config, identity)
    if not password:
        raise ValueError("a session token is only issued for a signed-in identity")
    expires = int(now) + SESSION_SECONDS
    name = base64.urlsafe_b64encode(identity.encode("utf-8")).decode("ascii").rstrip("=")
    return f"{name}.{expires}.{_signature(secret, password, identity, expires)}"


def identity_from_token(config: GateConfig, secret: bytes, token: str | None, *, now: float) -> str | None:
    """Who a session cookie was issued to, or None when it is missing, damaged, forged, expired, or
    signed with a password that has since changed."""
    if not config.enabled or not token or len(token) > _MAX_TOKEN_CHARS:
        return None
    parts = token.split(".")
    if len(parts) != 3 or not (parts[1].isascii() and parts[1].isdigit()):
        return None
    encoded, expires_text, signature = parts
    try:
        identity = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    expires = int(expires_text)
    password = _password_of(config, identity)
    if not password or not now < expires <= now + SESSION_SECONDS:
        return None
    expected = _signature(secret, password, identity, expires)
    return identity if hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode()) else None
