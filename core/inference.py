"""Loading a finished run's model and predicting with it: the Predict page, batch files, benches.

A run folder holds a model saved with save_pretrained plus review_studio.json (label map, config).
Our own mean-pooling head is loaded with our class directly, so the app never executes code from a
model folder; other heads load through AutoModelForSequenceClassification.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sqlalchemy import select

from core.db import Database
from core.errors import InvalidInputError, NotFoundError
from core.models import RunStatus, TrainingRun
from core.training.data import encode
from core.training.device import DeviceInfo, choose_device
from core.training.job import METADATA_FILE
from core.training.loop import INFERENCE_BATCH_SIZE, predict_probabilities
from core.training.mean_pooling import BertMeanPoolingForSequenceClassification
from core.training.modeling import refuse_pickled_weights

DEFAULT_MAX_TOKENS = 256


@dataclass
class LoadedModel:
    run_id: int
    model: Any
    tokenizer: Any
    labels: list[str]
    max_tokens: int
    device: DeviceInfo
    # Read as the run was trained: a long review's start and end (True), or its start only.
    keep_tail: bool = False
    # One loaded model serves every browser session (st.cache_resource), each in its own thread, and an
    # attribution hooks the shared embedding layer while it runs: a forward pass from another thread
    # at that moment reads the attribution's embeddings instead of its own. Explanations take turns.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def describe_device(self) -> str:
        """Where predictions run now: torch's live thread count, which a training job may be sharing."""
        if self.device.kind != "cpu":
            return self.device.describe()
        return replace(self.device, threads=torch.get_num_threads()).describe()

    def predict(self, texts: Sequence[str], *, progress: Callable[[float], None] | None = None) -> np.ndarray:
        """Class probabilities, one row per text in the order given (longest inputs are batched first)."""
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        encoded = encode(self.tokenizer, texts, [0] * len(texts), self.max_tokens, keep_tail=self.keep_tail)
        if progress is None:
            return predict_probabilities(self.model, encoded, self.tokenizer.pad_token_id, self.device)
        # In chunks so a long file can report progress; each chunk is still sorted by length inside.
        chunk = INFERENCE_BATCH_SIZE * 8
        rows = []
        for start in range(0, len(texts), chunk):
            piece = list(texts[start : start + chunk])
            part = encode(self.tokenizer, piece, [0] * len(piece), self.max_tokens, keep_tail=self.keep_tail)
            rows.append(predict_probabilities(self.model, part, self.tokenizer.pad_token_id, self.device))
            progress(min(1.0, (start + chunk) / len(texts)))
        return np.concatenate(rows)


def run_folder(db: Database, run_id: int, runs_dir: Path | None = None) -> Path:
    """The model folder of a finished run. `runs_dir`, this machine's view of the shared models folder,
    comes first: a worker on another machine recorded the path as it saw it, which may be mounted
    elsewhere here."""
    with db.read() as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise NotFoundError("That run no longer exists.")
        if run.status != RunStatus.SUCCEEDED or not run.artifact_path:
            raise InvalidInputError("Only runs that finished have a model. Pick a run that succeeded.")
        folder = Path(run.artifact_path)
    if runs_dir is not None and (runs_dir / str(run_id) / "config.json").exists():
        folder = runs_dir / str(run_id)
    if not (folder / "config.json").exists():
        raise NotFoundError(f"The model files of run #{run_id} are missing (expected in {folder}).")
    return folder


def finished_run_ids(db: Database, dataset_id: int | None = None) -> list[int]:
    with db.read() as session:
        query = (
            select(TrainingRun.id)
            .where(TrainingRun.status == RunStatus.SUCCEEDED)
            .order_by(TrainingRun.id.desc())
        )
        if dataset_id is not None:
            query = query.where(TrainingRun.dataset_id == dataset_id)
        return list(session.scalars(query))


def load_model_folder(
    folder: Path, *, run_id: int = 0, device: DeviceInfo | None = None, attention: bool = False
) -> LoadedModel:
    """attention=True loads eager attention, the only implementation that returns attention weights."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    device = device or choose_device()
    metadata = json.loads((folder / METADATA_FILE).read_text()) if (folder / METADATA_FILE).exists() else {}
    refuse_pickled_weights(folder)
    options: dict[str, Any] = {"local_files_only": True, "use_safetensors": True}
    if attention:
        options["attn_implementation"] = "eager"
    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    model: Any
    if "BertMeanPoolingForSequenceClassification" in (config.architectures or []):
        model = BertMeanPoolingForSequenceClassification.from_pretrained(folder, **options)
    else:
        model = AutoModelForSequenceClassification.from_pretrained(folder, **options)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model.to(device.torch_device).eval()
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    stored = metadata.get("config") or {}
    max_tokens = int(stored.get("max_tokens", DEFAULT_MAX_TOKENS))
    # Runs saved before keep_tail existed read the start of a review only.
    keep_tail = bool(stored.get("keep_tail", False))
    return LoadedModel(run_id, model, tokenizer, labels, max_tokens, device, keep_tail=keep_tail)


def load_run_model(
    db: Database, run_id: int, *, attention: bool = False, runs_dir: Path | None = None
) -> LoadedModel:
    return load_model_folder(run_folder(db, run_id, runs_dir), run_id=run_id, attention=attention)
