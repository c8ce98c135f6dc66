"""The sign-in screen of the optional password gate (core.access). Draws nothing when the gate is off."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import streamlit as st

from core.access import GateConfig, gate_config, sign_in, startup_refusal
from core.db import Database
from core.errors import ReviewStudioError
from core.services.annotators import add_annotator
from ui import state
from ui.text import markdown_literal

log = logging.getLogger(__name__)

SIGNED_IN_AS = "gate_signed_in_as"
SIGNED_IN_ANNOTATOR = "gate_signed_in_annotator_id"
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


def gate_ui(db: Database) -> None:
    """With the gate on: stop the script at the sign-in form until the person signs in, then make them
    the current annotator on every run (the sidebar shows who, with Sign out)."""
    config = current_gate()
    if not config.enabled:
        return
    refusal = startup_refusal(config, st.get_option("server.address"))
    if refusal:
        log.error("Refusing to serve: %s", refusal)
        st.error(refusal, icon=":material/lock:")
        st.stop()
    annotator_id = st.session_state.get(SIGNED_IN_ANNOTATOR)
    if signed_in_as() is not None and annotator_id is not None:
        # Read from the session: a database write on every rerun would slow each key press on Label.
        st.session_state[state.CURRENT_ANNOTATOR_ID] = annotator_id
        return
    _sign_in_form(db, config)
    st.stop()


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
            state.toast_after_rerun(f"Signed in as {markdown_literal(identity)}.", ":material/login:")
            st.rerun()


def sign_out() -> None:
    st.session_state.pop(SIGNED_IN_AS, None)
    st.session_state.pop(SIGNED_IN_ANNOTATOR, None)
    st.session_state[state.CURRENT_ANNOTATOR_ID] = None
