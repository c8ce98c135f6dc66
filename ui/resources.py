"""Process-wide resources, created once per process by st.cache_resource."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from core.assist.embeddings import EmbeddingStore
from core.assist.runner import AssistRunner
from core.config import Settings, load_settings
from core.db import Database, open_database
from core.services.suggestions import Suggester
from core.training.runner import TrainingRunner

if TYPE_CHECKING:
    from core.inference import LoadedModel


@st.cache_resource(show_spinner="Opening the database…")
def _open_database(database_url: str, data_dir: str) -> Database:
    return open_database(Settings(data_dir=Path(data_dir), database_url=database_url))


def get_db() -> Database:
    # Keyed by URL so tests (and anyone switching DATABASE_URL) get their own engine.
    settings = load_settings()
    return _open_database(settings.database_url, str(settings.data_dir))


@st.cache_resource(show_spinner=False)
def _start_runner(database_url: str, data_dir: str, models_dir: str, run_jobs: bool) -> TrainingRunner:
    # One runner per process and database; it marks runs a dead process left RUNNING as INTERRUPTED.
    runner = TrainingRunner(_open_database(database_url, data_dir), Path(models_dir))
    return runner.start() if run_jobs else runner


def get_runner() -> TrainingRunner:
    settings = load_settings()
    return _start_runner(
        settings.database_url, str(settings.data_dir), str(settings.runs_dir), settings.run_jobs
    )


@st.cache_resource(show_spinner=False)
def _start_assist_runner(database_url: str, data_dir: str, run_jobs: bool) -> AssistRunner:
    # Its own thread, apart from training: a refit must never wait behind a fine-tune.
    runner = AssistRunner(_open_database(database_url, data_dir), Path(data_dir))
    return runner.start() if run_jobs else runner


def get_assist_runner() -> AssistRunner:
    settings = load_settings()
    return _start_assist_runner(settings.database_url, str(settings.data_dir), settings.run_jobs)


@st.cache_resource(show_spinner=False, max_entries=8)
def _suggester(folder: str) -> Suggester:
    return Suggester(EmbeddingStore(Path(folder)))


def get_suggester(dataset_id: int) -> Suggester:
    """One per dataset and process: it keeps the embeddings it has read and reads only new ones."""
    folder = EmbeddingStore.for_dataset(get_db(), load_settings().data_dir, dataset_id).folder
    return _suggester(str(folder))


def demo_model_source() -> str:
    """What "Try the demo" fine-tunes: the bundled MiniLM unless the environment names another."""
    from core.training.config import BUNDLED_MODEL

    return load_settings().demo_model or BUNDLED_MODEL


def data_dir() -> Path:
    return load_settings().data_dir


def runs_dir() -> Path:
    return load_settings().runs_dir


@st.cache_resource(show_spinner=False)
def device_in_words() -> tuple[str, str]:
    """(where training runs, in plain words; the engineer's details for a tooltip)."""
    from core.training.device import choose_device

    device = choose_device()
    if device.kind == "cuda":
        where = f"the graphics card ({device.name}, {device.memory_gb:.0f} GB of memory)"
    elif device.kind == "mps":
        where = "the Mac's graphics chip"
    else:
        cores = os.cpu_count() or 1
        where = f"this computer's processor, {device.threads} of its {cores} cores"
        if device.threads < cores:
            where += ", the other kept free so the app stays quick"
    details = f"Technical details: {device.describe()}."
    if device.bf16:
        details += (
            " bf16 autocast: the chip calculates in a shorter number format, faster at the same accuracy."
        )
    return where, details


@st.cache_resource(show_spinner="Loading the model…", max_entries=3)
def _load_model(database_url: str, data_dir: str, run_id: int, attention: bool) -> LoadedModel:
    from core.explain import warm_up
    from core.inference import load_run_model

    model = load_run_model(
        _open_database(database_url, data_dir), run_id, attention=attention, runs_dir=runs_dir()
    )
    if attention:  # the Explain page's model: its first attribution should cost what the others do
        warm_up(model)
    return model


def get_model(run_id: int, *, attention: bool = False) -> LoadedModel:
    """A run's model, loaded once per process: switching pages or reviews does not reload it."""
    settings = load_settings()
    return _load_model(settings.database_url, str(settings.data_dir), run_id, attention)


def local_models_folder() -> Path:
    """The only folder user-named model folders load from (REVIEW_STUDIO_LOCAL_MODELS)."""
    return load_settings().local_models_dir
