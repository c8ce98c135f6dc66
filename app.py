"""Review Studio entry point: page config, navigation and the shared sidebar. Run: streamlit run app.py"""

from __future__ import annotations

import logging

import streamlit as st

from ui.resources import get_assist_runner, get_db, get_runner
from ui.state import keep_persisted_widgets, mirror_context_to_link
from ui.widgets import sidebar_context_ui, user_errors

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

st.set_page_config(page_title="Review Studio", page_icon=":material/reviews:", layout="wide")

PAGES = {
    "Data": [
        st.Page("app_pages/datasets.py", title="Datasets", icon=":material/database:", default=True),
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
page = st.navigation(PAGES)
with user_errors():
    get_runner()  # once per process: recovers interrupted runs and works through the queue
    sidebar_context_ui(get_db())
with user_errors():
    page.run()
with user_errors():
    # After the page is drawn: the first time, it imports sentence-transformers here (seconds) rather
    # than in its thread, since transformers' lazy imports are not safe to race with a page's.
    get_assist_runner()  # embeddings, label meanings and the fast model behind suggestions
keep_persisted_widgets()  # again: a page switch drops the last page's values before the next run
mirror_context_to_link()  # after the page, which may have changed the dataset or annotator
