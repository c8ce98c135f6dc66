"""The sign-in screen of the optional password gate (core.access). Draws nothing when the gate is off."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.access import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    GateConfig,
    gate_config,
    identity_from_token,
    session_secret,
    session_token,
    sign_in,
    startup_refusal,
)
from core.db import Database
from core.errors import ReviewStudioError
from core.services.annotators import add_annotator
from ui import state
from ui.resources import data_dir
from ui.text import markdown_literal

log = logging.getLogger(__name__)

SIGNED_IN_AS = "gate_signed_in_as"
SIGNED_IN_ANNOTATOR = "gate_signed_in_annotator_id"
# The browser's session cookie is written on the run after sign-in and cleared on the one after
# sign-out (a script sent just before st.rerun would never reach the page).
COOKIE_TO_WRITE = "gate_cookie_to_write"
COOKIE_TO_CLEAR = "gate_cookie_to_clear"
# This tab signed out: the cookie it arrived with (st.context.cookies is read once, when the tab
# connects) must not sign it straight back in.
SIGNED_OUT_HERE = "gate_signed_out_here"
SESSION_SECRET_FILE = "session.key"
# A wrong password costs this long: slows guessing from one browser tab to a crawl.
FAILED_SIGN_IN_DELAY_S = 1.0


def _secrets() -> dict[str, Any]:
    try:
        return st.secrets.to_dict()
    except Exception:  # no secrets.toml at all is the usual case, and Streamlit raises for it
        return {}


def current_gate() -> GateConfig:
    return gate_config(os.environ, _secrets())


def signed_in_as() -> str | None:
    value = st.session_state.get(SIGNED_IN_AS)
    return str(value) if value else None


def gate_ui(db: Database, page_paths: Sequence[str]) -> None:
    """With the gate on: stop the script at the sign-in form until the person signs in, then make them
    the current annotator on every run (the sidebar shows who, with Sign out). page_paths: the app's
    page addresses."""
    config = current_gate()
    if not config.enabled:
        return
    refusal = startup_refusal(config, st.get_option("server.address"))
    if refusal:
        log.error("Refusing to serve: %s", refusal)
        st.error(refusal, icon=":material/lock:")
        st.stop()
    # The name and the annotator id are always set and cleared together.
    if st.session_state.get(SIGNED_IN_ANNOTATOR) is None:
        _resume_from_cookie(db, config)
    annotator_id = st.session_state.get(SIGNED_IN_ANNOTATOR)
    if annotator_id is not None:
        # Read from the session: a database write on every rerun would slow each key press on Label.
        st.session_state[state.CURRENT_ANNOTATOR_ID] = annotator_id
        return
    if st.session_state.pop(COOKIE_TO_CLEAR, False):
        _set_cookie(st.container(), "", 0)
    # A navigation that shows no page list: after Sign out the browser would keep the app's list from the
    # last run, as this run stops before app.py's own. The app's addresses stay valid (no "Page not
    # found"), so a link to /train opens Train once its reader signs in.
    hidden = [st.Page(_sign_in_page, title="Sign in", default=True)]
    hidden += [st.Page(_sign_in_page, title="Sign in", url_path=path) for path in page_paths if path]
    st.navigation(hidden, position="hidden")
    _sign_in_form(db, config)
    st.stop()


def _sign_in_page() -> None:
    """Never run: the form is drawn by gate_ui itself."""


def write_session_cookie() -> None:
    """After sign-in, give the browser its session cookie. Called last in the sidebar, so the element
    that carries the script moves nothing on the page."""
    token = st.session_state.pop(COOKIE_TO_WRITE, None)
    if token:
        _set_cookie(st.sidebar, token, SESSION_SECONDS)


def _resume_from_cookie(db: Database, config: GateConfig) -> None:
    """A refresh or a new tab of a browser that signed in within SESSION_SECONDS stays signed in."""
    if st.session_state.get(SIGNED_OUT_HERE):
        return
    token = st.context.cookies.get(SESSION_COOKIE)
    if not token:
        return
    identity = identity_from_token(config, _secret(), token, now=time.time())
    if identity is None:
        return
    try:
        annotator = add_annotator(db, identity)
    except ReviewStudioError:  # e.g. the name was since taken by imported labels
        return
    st.session_state[SIGNED_IN_AS] = identity
    st.session_state[SIGNED_IN_ANNOTATOR] = annotator.id


def _secret() -> bytes:
    return session_secret(data_dir() / SESSION_SECRET_FILE)


def _set_cookie(where: DeltaGenerator, value: str, max_age: int) -> None:
    # The token holds only base64url, digits, hex and dots; json.dumps quotes it for the script anyway.
    # Not HttpOnly (a page script cannot set that); SameSite=Strict keeps other sites from sending it.
    where.html(
        "<script>document.cookie = "
        f"{json.dumps(SESSION_COOKIE + '=' + value)} + '; Max-Age={max_age}; Path=/; SameSite=Strict'"
        " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
    )


def _sign_in_form(db: Database, config: GateConfig) -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("Review Studio")
        st.caption(
            "Sign in with your name and your password."
            if config.personal
            else "Sign in with your name and the team's password. Your labels are saved under your name."
        )
        with st.form("sign_in"):
            name = st.text_input("Your name", max_chars=80, autocomplete="username")
            password = st.text_input("Password", type="password", autocomplete="current-password")
            submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
        if submitted:
            identity = sign_in(config, name, password)
            if identity is None:
                time.sleep(FAILED_SIGN_IN_DELAY_S)
                st.error("That name and password do not match. Try again.", icon=":material/lock:")
                return
            try:
                annotator = add_annotator(db, identity)
            except ReviewStudioError as error:  # e.g. the name reserved for imported labels
                st.error(str(error), icon=":material/lock:")
                return
            st.session_state[SIGNED_IN_AS] = identity
            st.session_state[SIGNED_IN_ANNOTATOR] = annotator.id
            st.session_state[COOKIE_TO_WRITE] = session_token(config, _secret(), identity, now=time.time())
            st.session_state.pop(SIGNED_OUT_HERE, None)
            state.toast_after_rerun(f"Signed in as {markdown_literal(identity)}.", ":material/login:")
            st.rerun()


def sign_out() -> None:
    st.session_state[COOKIE_TO_CLEAR] = True
    st.session_state[SIGNED_OUT_HERE] = True
    st.session_state.pop(COOKIE_TO_WRITE, None)
    st.session_state.pop(SIGNED_IN_AS, None)
    st.session_state.pop(SIGNED_IN_ANNOTATOR, None)
    st.session_state[state.CURRENT_ANNOTATOR_ID] = None
