"""The optional password gate in the running app (AppTest): nothing shows until someone signs in, and
the person signed in is the annotator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from core.access import PASSWORD_ENV
from core.db import Database
from core.services.annotators import list_annotators
from core.services.sample import load_sample_dataset

pytestmark = pytest.mark.app

STRONG = "correct horse battery staple"


def _sign_in(at: AppTest, name: str, password: str) -> AppTest:
    next(t for t in at.text_input if t.label == "Your name").set_value(name)
    next(t for t in at.text_input if t.label == "Password").set_value(password)
    return next(b for b in at.button if b.label == "Sign in").click().run()


def test_with_a_password_nothing_shows_before_signing_in(
    make_app: Callable[[str], AppTest], app_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, STRONG)
    load_sample_dataset(app_db)
    at = make_app("app.py").run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Your name", "Password"]
    assert not at.selectbox  # no sidebar, no dataset, no page
    assert not any("979 reviews" in c.value for c in at.caption)

    at = _sign_in(at, "Alex", "wrong password entirely")
    assert "do not match" in at.error[0].value
    assert not at.selectbox
    assert list_annotators(app_db) == []

    at = _sign_in(at, "Alex", STRONG)
    assert not at.exception
    assert [a.name for a in list_annotators(app_db)] == ["Alex"]
    assert any("Labeling as **Alex**" in c.value for c in at.caption)
    assert at.selectbox(key="sidebar_dataset_widget").value is not None
    # Labeling as someone else is not offered while signed in.
    assert not [b for b in at.button if b.label == "Add"]

    next(b for b in at.button if b.label == "Sign out").click().run()
    assert [t.label for t in at.text_input] == ["Your name", "Password"]


def test_personal_passwords_from_secrets(make_app: Callable[[str], AppTest], app_db: Database) -> None:
    at = make_app("app.py")
    at.secrets["passwords"] = {"Sam": STRONG}
    at.run()
    at = _sign_in(at, "sam", STRONG)
    assert not at.exception
    assert [a.name for a in list_annotators(app_db)] == ["Sam"]


def test_a_weak_password_on_a_reachable_address_serves_nothing(
    make_app: Callable[[str], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "letmein")
    at = make_app("app.py").run()
    assert not at.exception
    assert "too weak for an app that other computers can reach" in at.error[0].value
    assert not at.text_input and not at.selectbox
