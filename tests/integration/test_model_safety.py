"""Model loading trusts safetensors only, and only from the places a user may name (issue #13).

Each malicious file here is a real pickle whose unpickling creates a marker file, the way a hostile
checkpoint would run its code. The tests assert the refusal and that the marker never appears.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest
import torch

from core.config import Settings
from core.db import Database
from core.errors import InvalidInputError, ReviewStudioError
from core.inference import load_model_folder, load_run_model
from core.services.training import start_training
from core.training.job import run_training_job
from core.training.modeling import ModelUnavailableError, load_for_training, resolve_model_source
from core.training.runner import claim_next_run
from tests.integration.training_helpers import make_dataset, tiny_config


class _RunsCodeWhenUnpickled:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def _plant_pickle(path: Path, marker: Path) -> None:
    if path.suffix == ".pkl":
        path.write_bytes(pickle.dumps(_RunsCodeWhenUnpickled(marker)))
    else:
        torch.save({"bert.embeddings.word_embeddings.weight": _RunsCodeWhenUnpickled(marker)}, path)


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "local-models"
    folder.mkdir()
    return folder


def _pickled_model(tiny_model: str, models_dir: Path, marker: Path, weights: str) -> Path:
    """A complete model folder (config, tokenizer) whose only weights are a malicious pickle."""
    folder = models_dir / "pickled"
    shutil.copytree(tiny_model, folder)
    (folder / "model.safetensors").unlink()
    _plant_pickle(folder / weights, marker)
    return folder


@pytest.mark.parametrize("weights", ["pytorch_model.bin", "model.pt", "weights.pkl"])
def test_pickled_weights_are_refused_unread_for_training(
    tiny_model: str, models_dir: Path, tmp_path: Path, weights: str
) -> None:
    marker = tmp_path / "pwned"
    folder = _pickled_model(tiny_model, models_dir, marker, weights)
    with pytest.raises(ModelUnavailableError, match=rf"no safetensors weights.*{weights}.*can run code"):
        load_for_training("pickled", ["negative", "positive"], local_models_dir=models_dir)
    # The library is told the same: even asked directly for the folder, it will not fall back to the pickle.
    from transformers import AutoModelForSequenceClassification

    with pytest.raises(OSError, match=r"model\.safetensors"):
        AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True)
    assert not marker.exists()


def test_start_training_refuses_a_pickled_folder_on_the_page(
    db: Database, tiny_model: str, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEW_STUDIO_LOCAL_MODELS", str(models_dir))
    marker = tmp_path / "pwned"
    _pickled_model(tiny_model, models_dir, marker, "pytorch_model.bin")
    with pytest.raises(ReviewStudioError, match="loads safetensors only"):
        start_training(db, make_dataset(db), tiny_config("pickled"), preset=None)
    assert claim_next_run(db) is None
    assert not marker.exists()


def test_a_pickle_beside_safetensors_is_never_opened(
    tiny_model: str, models_dir: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    folder = models_dir / "both"
    shutil.copytree(tiny_model, folder)
    _plant_pickle(folder / "pytorch_model.bin", marker)
    model, _ = load_for_training("both", ["negative", "positive"], local_models_dir=models_dir)
    assert model.config.num_labels == 2
    assert not marker.exists()


def test_config_pointing_at_a_pickle_is_refused(tiny_model: str, models_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = models_dir / "redirected"
    shutil.copytree(tiny_model, folder)
    _plant_pickle(folder / "evil.bin", marker)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "transformers_weights": "evil.bin"}))
    with pytest.raises(ModelUnavailableError, match=r"asks for weights from “evil\.bin”"):
        load_for_training("redirected", ["negative", "positive"], local_models_dir=models_dir)
    assert not marker.exists()


def test_a_trained_run_whose_weights_were_swapped_for_a_pickle_is_refused(
    db: Database, settings: Settings, tiny_model: str, tmp_path: Path
) -> None:
    run_id = start_training(db, make_dataset(db, rows=40), tiny_config(tiny_model, epochs=1), preset=None)
    claim_next_run(db)
    run_training_job(run_id, db, runs_dir=settings.runs_dir)
    loaded = load_run_model(db, run_id, runs_dir=settings.runs_dir)
    assert loaded.predict(["great relief"]).shape == (1, 2)

    folder = settings.runs_dir / str(run_id)
    marker = tmp_path / "pwned"
    (folder / "model.safetensors").unlink()
    _plant_pickle(folder / "pytorch_model.bin", marker)
    with pytest.raises(ModelUnavailableError, match="no safetensors weights"):
        load_model_folder(folder)
    assert not marker.exists()


@pytest.mark.parametrize(
    "source",
    [
        "https://huggingface.co/bert-base-uncased",
        "http://10.0.0.1/model",
        "hf://owner/model",
        "file:///etc",
        "/etc",
        "../../etc",
        "~",
        "owner/../../etc",
    ],
)
def test_web_addresses_and_paths_outside_the_models_folder_are_refused(source: str, models_dir: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"web address|neither a Hugging Face model id"):
        resolve_model_source(source, models_dir)


def test_a_link_inside_the_models_folder_that_leads_outside_is_refused(
    tiny_model: str, models_dir: Path
) -> None:
    (models_dir / "sneaky").symlink_to(Path(tiny_model).resolve(), target_is_directory=True)
    with pytest.raises(InvalidInputError, match="a link that leads outside that folder"):
        resolve_model_source("sneaky", models_dir)


def test_what_is_allowed(tiny_model: str, models_dir: Path) -> None:
    shutil.copytree(tiny_model, models_dir / "mine")
    assert resolve_model_source("mine", models_dir) == str((models_dir / "mine").resolve())
    assert resolve_model_source(str(models_dir / "mine"), models_dir) == str((models_dir / "mine").resolve())
    assert resolve_model_source("bert-base-uncased", models_dir) == "bert-base-uncased"
    assert resolve_model_source("sentence-transformers/all-MiniLM-L6-v2", models_dir) == (
        "sentence-transformers/all-MiniLM-L6-v2"
    )
