"""Sentence embeddings of a dataset's reviews, computed once and kept in files this module owns.

A dataset's vectors live under `<data dir>/embeddings/<dataset id>-<created>/<model key>/` as numbered
shards (the creation stamp because SQLite may hand a deleted dataset's id, and its records' ids, to
the next import: its vectors must never be read as the new one's),
each an .npz holding record ids and their unit-length float16 vectors. A shard is written to a temporary
name and renamed into place, so a crash leaves whole shards only, and embedding resumes where the last
shard ended: nothing is recomputed, and newly imported reviews are simply the ids not in any shard yet.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sqlalchemy import func, select

from core.db import Database
from core.models import Dataset, Record
from core.training.config import BUNDLED_MODEL

# Reviews embedded per shard: a crash loses at most this much work, and progress moves in these steps.
SHARD_SIZE = 256
# all-MiniLM-L6-v2 was trained on inputs of up to 128 word pieces; longer ones only cost time.
EMBEDDING_MAX_TOKENS = 128
_SHARD_NAME = re.compile(r"^shard-(\d{6})\.npz$")


class TextEncoder(Protocol):
    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


def model_key(source: str) -> str:
    """A folder name for a model source: the bundled model, a hub id or a local path."""
    name = "bundled-all-MiniLM-L6-v2" if source == BUNDLED_MODEL else source
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:100] or "model"


@functools.lru_cache(maxsize=4096)
def _shard_ids(shard: Path, modified_ns: int) -> np.ndarray:
    # A shard never changes once renamed into place, so its ids are read once per process: the runner
    # asks which reviews are done before every shard, and 100,000 reviews are ~400 shards. The
    # modification time is part of the key in case a folder is ever rewritten under the same names.
    with np.load(shard) as data:
        ids = np.asarray(data["ids"])
    ids.setflags(write=False)
    return ids


def dataset_folder(db: Database, data_dir: Path, dataset_id: int) -> Path:
    """Where everything the assist runner keeps for one dataset lives."""
    with db.read() as session:
        created = session.scalar(select(Dataset.created_at).where(Dataset.id == dataset_id))
    stamp = created.strftime("%Y%m%d%H%M%S%f") if created is not None else "gone"
    return data_dir / "embeddings" / f"{dataset_id}-{stamp}"


def remove_dataset_files(data_dir: Path, dataset_id: int) -> None:
    """Delete a dataset's embeddings and fast model: every folder of that id, whatever its stamp."""
    root = data_dir / "embeddings"
    if not root.is_dir():
        return
    for folder in root.glob(f"{dataset_id}-*"):
        if folder.parent.resolve() == root.resolve() and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class EmbeddingStore:
    folder: Path

    @classmethod
    def for_dataset(
        cls, db: Database, data_dir: Path, dataset_id: int, source: str = BUNDLED_MODEL
    ) -> EmbeddingStore:
        return cls(dataset_folder(db, data_dir, dataset_id) / model_key(source))

    def _shards(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if _SHARD_NAME.match(p.name))

    def embedded_ids(self) -> np.ndarray:
        parts = [_shard_ids(shard, shard.stat().st_mtime_ns) for shard in self._shards()]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """(record ids, vectors as float32 rows of unit length), in the order they were embedded."""
        ids, vectors = [], []
        for shard in self._shards():
            with np.load(shard) as data:
                ids.append(data["ids"])
                vectors.append(data["vectors"])
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return np.concatenate(ids), np.concatenate(vectors).astype(np.float32)

    def append(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        if len(ids) != len(vectors):
            raise ValueError("Each embedded record needs exactly one vector.")
        if not len(ids):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        shards = self._shards()
        number = int(_SHARD_NAME.match(shards[-1].name).group(1)) + 1 if shards else 0  # type: ignore[union-attr]
        final = self.folder / f"shard-{number:06d}.npz"
        partial = self.folder / f".shard-{number:06d}.partial.npz"
        np.savez(partial, ids=np.asarray(ids, dtype=np.int64), vectors=np.asarray(vectors, dtype=np.float16))
        os.replace(partial, final)


def embed_dataset(
    db: Database,
    dataset_id: int,
    store: EmbeddingStore,
    encoder: TextEncoder,
    *,
    shard_size: int = SHARD_SIZE,
    max_shards: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Embed every review of the dataset that no shard holds yet, in import order, or the first
    max_shards shards of them. Returns how many were embedded now; stops between shards when asked."""
    done = set(store.embedded_ids().tolist())
    with db.read() as session:
        # The runner asks this of every dataset once a second: a complete one is answered by a count
        # and its newest id, not by listing all its ids (records are only ever added, with new ids).
        total, newest = session.execute(
            select(func.count(), func.max(Record.id)).where(Record.dataset_id == dataset_id)
        ).one()
        if total <= len(done) and (newest is None or newest in done):
            return 0
        all_ids = list(
            session.scalars(
                select(Record.id).where(Record.dataset_id == dataset_id).order_by(Record.position)
            )
        )
    missing = [record_id for record_id in all_ids if record_id not in done]
    embedded = 0
    for number, start in enumerate(range(0, len(missing), shard_size)):
        if should_stop() or (max_shards is not None and number >= max_shards):
            break
        chunk = missing[start : start + shard_size]
        with db.read() as session:
            texts = dict(session.execute(select(Record.id, Record.text).where(Record.id.in_(chunk))).all())
        present = [record_id for record_id in chunk if record_id in texts]  # deleted meanwhile: skip
        store.append(present, encoder([texts[record_id] for record_id in present]))
        embedded += len(present)
    return embedded


def sentence_encoder(source: str = BUNDLED_MODEL, *, batch_size: int = 64) -> TextEncoder:
    """The bundled MiniLM (or another sentence-transformers model) as a function from texts to unit vectors.

    On a CPU that runs bf16 natively the weights are loaded in bf16: on this project's 2-core machine
    that embeds about twice as fast as fp32 (88 against 47 reviews/s on two threads, measured by
    bench/assist_quality.py), with every vector of 400 sample reviews within cosine 0.998 of fp32's."""
    import torch
    from sentence_transformers import SentenceTransformer

    from core.training.device import cpu_has_native_bf16
    from core.training.modeling import offline_mode, resolve_model_source

    model: Any = SentenceTransformer(
        resolve_model_source(source),
        device="cpu",
        local_files_only=offline_mode(),
        model_kwargs={
            "use_safetensors": True,
            **({"dtype": torch.bfloat16} if cpu_has_native_bf16() else {}),
        },
    )
    model.max_seq_length = EMBEDDING_MAX_TOKENS

    def encode(texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, model.get_embedding_dimension()), dtype=np.float32)
        vectors = model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_tensor=True
        )
        return np.asarray(vectors.float().cpu().numpy(), dtype=np.float32)

    return encode
