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

import hmac
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PASSWORD_ENV = "REVIEW_STUDIO_PASSWORD"
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
