"""Review Studio entry point: page config, navigation and the shared sidebar. Run: streamlit run app.py"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from ui.gate import gate_ui
from ui.resources import get_assist_runner, get_db, get_runner
from ui.state import keep_persisted_widgets, mirror_context_to_link, show_pending_toasts
from ui.tour import mirror_tour_to_link, tour_ui
from ui.widgets import sidebar_context_ui, user_errors

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

ASSETS = Path(__file__).parent / "ui" / "assets"
# Local files, not a :material/: icon: the browser fetches those tab icons from a font CDN, which an
# offline laptop cannot reach.
st.set_page_config(page_title="Review Studio", page_icon=str(ASSETS / "favicon.png"), layout="wide")
st.logo(str(ASSETS / "logo.svg"), icon_image=str(ASSETS / "mark.svg"), size="large")

PAGES = {
    "": [st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Data": [
        st.Page("app_pages/datasets.py", title="Datasets", icon=":material/database:"),
        st.Page("app_pages/label.py", title="Label", icon=":material/label:"),
    ],
    "Model": [
        st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("app_pages/results.py", title="Results", icon=":material/insights:"),
        st.Page("app_pages/predict.py", title="Predict", icon=":material/bolt:"),
        st.Page("app_pages/explain.py", title="Explain", icon=":material/psychology:"),
    ],
}

keep_persisted_widgets()  # see ui.state.persist
with user_errors():
    get_runner()  # once per process: recovers interrupted runs and works through the queue
# Before the navigation: until someone signs in (when a password is set), no page is even listed.
gate_ui(get_db(), [page.url_path for section in PAGES.values() for page in section])
page = st.navigation(PAGES)
with user_errors():
    tour_ui(get_db(), page.title)  # first under the navigation: during the demo it is what matters
    sidebar_context_ui(get_db())
    show_pending_toasts()
with user_errors():
    page.run()
with user_errors():
    # After the page is drawn: the first time, it imports sentence-transformers here (seconds) rather
    # than in its thread, since transformers' lazy imports are not safe to race with a page's.
    get_assist_runner()  # embeddings, label meanings and the fast model behind suggestions
keep_persisted_widgets()  # again: a page switch drops the last page's values before the next run
mirror_context_to_link()  # after the page, which may have changed the dataset or annotator
mirror_tour_to_link()
