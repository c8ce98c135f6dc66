"""The Train page's Streamlit pieces: setup, live run, history, settings search."""
