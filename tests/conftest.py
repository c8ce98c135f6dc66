from __future__ import annotations

import os

# No test may reach a model hub: this machine (and CI) has no network beyond package registries.
# Set before anything imports huggingface_hub, which reads it once.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import LOCAL_MODELS_ENV, Settings
from core.db import Database, open_database

CORPUS = Path(__file__).resolve().parent / "fixtures" / "importer"


@pytest.fixture
def corpus() -> Path:
    return CORPUS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    return Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'app.db'}")


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(settings)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A BERT with hidden size 32 and the bundled tokenizer, saved like any model folder: trains in seconds."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from core.training.modeling import bundled_model_path

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    import torch

    # Seeded, so every test session gets the same "pretrained" weights and the same tiny runs.
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    # User-named model folders load only from the local models folder: here, the tests' temporary root.
    os.environ[LOCAL_MODELS_ENV] = str(folder.parent)
    return str(folder)
