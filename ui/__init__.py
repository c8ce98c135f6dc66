"""Streamlit-only helpers shared by pages. Nothing in core/ imports from here."""
