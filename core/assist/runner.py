"""The assist runner: one thread per process that keeps every dataset's in-loop files current.

It is separate from the training runner on purpose: a refit takes well under a second and must never
wait behind a fine-tune that takes minutes (CONVENTIONS 11). Each pass does the cheap work first
(descriptions, then refits) for every dataset, and then embeds one shard of one dataset, so a label
saved during a long embedding pass is reflected within one shard's time (a few seconds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from core.assist.embeddings import EmbeddingStore, TextEncoder, sentence_encoder
from core.assist.refresh import embed_next_shard, refresh_descriptions, refresh_fast_model
from core.background import PollingThread
from core.db import Database
from core.models import Dataset

log = logging.getLogger(__name__)
IDLE_POLL_S = 1.0
# After a failure (a model that cannot load, a full disk), wait longer before trying again.
FAILURE_BACKOFF_S = 30.0


def assist_pass(db: Database, data_dir: Path, encoder: TextEncoder) -> bool:
    """One round over every dataset. True when there is more embedding to do."""
    with db.read() as session:
        dataset_ids = list(session.scalars(select(Dataset.id).order_by(Dataset.id.desc())))
    stores = {dataset_id: EmbeddingStore.for_dataset(db, data_dir, dataset_id) for dataset_id in dataset_ids}
    for dataset_id, store in stores.items():
        refresh_descriptions(db, dataset_id, store, encoder)
        refresh_fast_model(db, dataset_id, store)
    # Newest dataset first: it is the one somebody just imported and is about to label.
    return any(embed_next_shard(db, dataset_id, store, encoder) for dataset_id, store in stores.items())


class AssistRunner(PollingThread):
    thread_name = "assist-runner"

    def __init__(
        self,
        db: Database,
        data_dir: Path,
        *,
        encoder_factory: Callable[[], TextEncoder] = sentence_encoder,
    ) -> None:
        super().__init__()
        self.db, self.data_dir, self.encoder_factory = db, data_dir, encoder_factory

    def start(self) -> AssistRunner:
        """Start the thread. The encoder's libraries are imported first, on the caller's thread:
        transformers resolves names lazily, and a page importing from it while this thread does the
        same failed with "cannot import name 'BertModel'"."""
        if not self.started:
            import sentence_transformers  # noqa: F401

            self._start_thread()
        return self

    def _work(self) -> None:
        encoder: TextEncoder | None = None
        while not self._stop.is_set():
            try:
                if encoder is None:
                    encoder = self.encoder_factory()
                more = assist_pass(self.db, self.data_dir, encoder)
            except Exception:  # a bad dataset must not stop suggestions for the others
                log.exception("The assist runner's pass failed; retrying in %.0f s", FAILURE_BACKOFF_S)
                self._stop.wait(FAILURE_BACKOFF_S)
                continue
            if not more:
                self._sleep(IDLE_POLL_S)
