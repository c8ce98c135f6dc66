"""Train page: the new-run form (what a run learns from, presets, Advanced settings) and Start."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core.db import Database
from core.services.datasets import DatasetRef
from core.services.training import (
    start_training,
    training_setup,
)
from core.training.config import BUNDLED_MODEL, DEFAULT_PRESET, MAX_EPOCHS, PRESETS, TrainConfig
from core.training.data import MIN_EXAMPLES_PER_CLASS
from ui import state
from ui.resources import device_in_words, get_runner, local_models_folder
from ui.train.search import search_setup_ui
from ui.widgets import user_errors

PRESET_KEY = "train_preset"

_PRESET_HELP = {
    "Quick": "A few minutes on a laptop: reads the start and end of each review, three passes (more on a "
    "small dataset, so the model still learns enough; fewer on a large one, so it stays quick).",
    "Balanced": "The default: reads longer reviews in full, four passes (more on a small dataset, fewer on "
    "a large one). About twice Quick's time.",
    "Best": "The longest reviews and six passes over every review, however many. Meant for a GPU; slow on "
    "a laptop.",
}


def _step_limit_note(config: TrainConfig, train_size: int) -> None:
    """Says so when the preset's step limit keeps it from reading every review as often as it says."""
    if not config.step_limit_applies(train_size):
        return
    passes = config.passes_read(train_size)
    if passes < 1:
        reviews = min(train_size, config.max_steps * config.batch_size)
        read = f"it learns from a shuffled {reviews:,} of your {train_size:,} training reviews, each once"
    else:
        read = f"it reads your {train_size:,} training reviews {passes:.1f} times rather than {config.epochs}"
    st.caption(
        f"To stay within its time, this preset stops after {config.max_steps:,} learning steps: {read}. "
        "Best reads them all; so does a number of passes you set under Advanced settings.",
        help=f"One learning step per batch of {config.batch_size} reviews. Reading every review takes "
        "longer and may learn more. The test score and the predictions still cover every review.",
    )


def setup_ui(db: Database, dataset: DatasetRef) -> None:
    setup = training_setup(db, dataset.id)
    st.markdown(
        f"**{setup.train_pool:,}** labeled reviews to learn from (a share is kept for validation), "
        f"**{setup.test:,}** held out for the test score."
    )
    counts = pd.DataFrame(
        {
            "Label": [c.name for c in setup.classes],
            "Train + validation": [c.train_pool for c in setup.classes],
            "Test": [c.test for c in setup.classes],
        }
    )
    if setup.classes:
        st.dataframe(counts, hide_index=True, width="content")
    if not setup.can_train:
        st.info(
            f"Training needs at least two labels with {MIN_EXAMPLES_PER_CLASS} or more labeled reviews each. "
            "Add labels under **Datasets → Label set**, then label reviews on the **Label** page.",
            icon=":material/info:",
        )
    else:
        for warning in setup.warnings:
            st.warning(warning, icon=":material/warning:")

    # Kept through a trip to another page: a newcomer who chose Quick must find Quick on return.
    preset_key = state.persist(PRESET_KEY, allowed=list(PRESETS))
    st.session_state.setdefault(preset_key, DEFAULT_PRESET)
    preset = str(
        st.segmented_control(
            "Preset",
            list(PRESETS),
            key=preset_key,
            required=True,
            help="Ready-made settings. Quick: a couple of minutes on a laptop. Balanced: reads longer "
            "reviews, about twice as long. Best: meant for a graphics card.",
        )
    )
    st.caption(_PRESET_HELP[preset])
    config = _advanced_ui(PRESETS[preset])
    _step_limit_note(config, setup.train_size(config.validation_share))
    where, details = device_in_words()
    st.caption(f"Will train on {where}.", help=details)
    if st.button(
        "Start training", type="primary", icon=":material/play_arrow:", disabled=not setup.can_train
    ):
        with user_errors():
            run_id = start_training(db, dataset.id, config, preset=preset)
            get_runner().wake()
            state.toast_after_rerun(
                f"Run #{run_id} queued; it starts as soon as the trainer is free.", ":material/schedule:"
            )
            st.rerun()
    search_setup_ui(db, dataset, config, preset, setup.can_train)


# Ways to help rare labels, as (class_weighting, class_weight_power, logit_adjustment).
_DISCOUNT, _COUNT_MORE, _COUNT_FULLY, _NO_HELP = (
    "Discount how common a label is",
    "Make their reviews count more",
    "Make their reviews count fully as much",
    "No help",
)
_RARE_LABEL_HELP: dict[str, tuple[bool, float, float]] = {
    _DISCOUNT: (False, 0.5, 0.5),
    _COUNT_MORE: (True, 0.5, 0.0),
    _COUNT_FULLY: (True, 1.0, 0.0),
    _NO_HELP: (False, 0.5, 0.0),
}


def _rare_label_help_of(config: TrainConfig) -> str:
    if config.class_weighting:
        return _COUNT_FULLY if config.class_weight_power >= 1 else _COUNT_MORE
    return _DISCOUNT if config.logit_adjustment else _NO_HELP


def _advanced_ui(base: TrainConfig) -> TrainConfig:
    with st.expander("Advanced", icon=":material/tune:"):
        custom = st.text_input(
            "Model",
            value="",
            placeholder="Bundled MiniLM-L6 (works offline)",
            help="Leave empty for the bundled model, or give a Hugging Face id such as owner/model (needs "
            f"internet), or the name of a model folder you copied into {local_models_folder()}. Only "
            "models saved as safetensors load.",
        )
        epochs_col, batch_col = st.columns(2)
        lr_col, head_lr_col = st.columns(2)
        epochs = epochs_col.number_input(
            "Passes over the data",
            1,
            MAX_EPOCHS,
            base.epochs,
            help="Epochs: how often the model reads every review. The preset reads a small dataset more "
            f"often, until it has taken {base.min_steps:,} learning steps (one per batch of reviews), since "
            "a few dozen leave a model that has barely learned"
            + (
                f", and a large one less often, stopping after {base.max_steps:,} steps"
                if base.max_steps
                else ""
            )
            + ". A number you change here is used as it is.",
        )
        learning_rate = lr_col.number_input(
            "Learning rate",
            1e-7,
            1e-2,
            base.learning_rate,
            format="%.1e",
            help="How big a step the pretrained model takes per batch.",
        )
        head_learning_rate = head_lr_col.number_input(
            "New layer's rate",
            1e-7,
            1e-1,
            base.head_learning_rate,
            format="%.1e",
            help="Learning rate of the new output layer, which starts from scratch and so learns faster.",
        )
        tokens_col, seed_col = st.columns(2)
        batch_size = batch_col.number_input(
            "Batch size",
            1,
            512,
            base.batch_size,
            help="How many reviews the model learns from at once. Larger is faster on a graphics card and "
            "needs more memory.",
        )
        max_tokens = tokens_col.number_input(
            "Words read", 16, 512, base.max_tokens, step=16, help="Max tokens: longer reviews are cut."
        )
        seed = seed_col.number_input(
            "Seed", 0, 2**31 - 1, base.seed, help="The same seed and settings give the same model."
        )
        validation_col, warmup_col = st.columns(2)
        decay_col, layer_col = st.columns(2)
        validation = validation_col.number_input(
            "Validation",
            0.05,
            0.45,
            base.validation_share,
            step=0.05,
            help="Share of labeled reviews held back to check the model and calibrate its confidence.",
        )
        warmup = warmup_col.number_input(
            "Warmup",
            0.0,
            0.9,
            base.warmup_ratio,
            step=0.05,
            help="Warmup: the learning rate rises from zero over this share of the steps, so the first, "
            "noisiest steps do not undo what the pretrained model knows.",
        )
        decay = decay_col.number_input(
            "Weight decay",
            0.0,
            1.0,
            base.weight_decay,
            step=0.01,
            help="Gently pulls the model's numbers toward zero at every step, against memorising the "
            "training reviews.",
        )
        frozen_col, smoothing_col = st.columns(2)
        layer_decay = layer_col.number_input(
            "Layer rate decay",
            0.1,
            1.0,
            base.layer_lr_decay,
            step=0.05,
            help="Each layer below the top learns at this share of the one above: lower layers hold general language.",
        )
        frozen_layers = frozen_col.number_input(
            "Freeze lower layers",
            0,
            24,
            base.frozen_layers,
            help="This many of the model's lowest layers keep what they learned before and do not train: "
            "faster, and sometimes steadier with very few labels.",
        )
        rare_label_help = st.selectbox(
            "Help for rare labels",
            list(_RARE_LABEL_HELP),
            index=list(_RARE_LABEL_HELP).index(_rare_label_help_of(base)),
            help="A label with few reviews is easy for a model to skip. “Discount”: the model learns "
            "with half of each label's lead from being common handed to it, and answers without that lead, "
            "so it favours common labels less (Quick's choice). “Count more”: each review of a rare label "
            "weighs more, by the square root of how much rarer it is (Balanced and Best). “Fully”: a rare "
            "label's reviews together weigh as much as a common label's. Each preset's choice scored best "
            "for it on the sample's validation splits. For engineers: logit-adjusted loss with τ = 0.5, or "
            "balanced class weights to the power 0.5 or 1.",
        )
        class_weighting, class_weight_power, logit_adjustment = _RARE_LABEL_HELP[rare_label_help]
        restore_best = st.checkbox(
            "Keep the best pass on validation",
            base.restore_best_epoch,
            help="Off (recommended): keep the last pass. A small validation part is too noisy to pick a pass with.",
        )
        patience = st.number_input(
            "Stop after this many passes without progress",
            1,
            20,
            base.early_stopping_patience,
            disabled=not restore_best,
            help="With the best pass kept: training ends early once the validation score has not improved "
            "for this many passes.",
        )
        freeze_col, dropout_col = st.columns(2)
        freeze_embeddings = freeze_col.checkbox(
            "Keep the word meanings fixed",
            base.freeze_embeddings,
            help="The model's built-in meaning of each word piece (its embeddings) stays as it came: about "
            "a fifth faster per step, with the same validation scores on the sample.",
        )
        dropout = dropout_col.number_input(
            "Dropout",
            0.0,
            0.9,
            base.dropout if base.dropout is not None else 0.1,
            step=0.05,
            help="Share of the model's connections switched off at random in each training step, "
            "against memorising the examples. 0 (recommended): as accurate on the sample's validation "
            "splits for these short trainings, and faster on a CPU.",
        )
        smoothing = smoothing_col.number_input(
            "Label smoothing",
            0.0,
            0.45,
            base.label_smoothing,
            step=0.05,
            help="Keeps the model from being trained toward 100% certainty on any label: a share of each "
            "training label is spread over the others. 0.1 (recommended) raised macro-F1 on the "
            "sample's validation splits, mostly for the rare label.",
        )
        augment = st.checkbox(
            "Augment small classes",
            base.augment_small_classes,
            help="Adds copies of reviews from small labels with a few words dropped or swapped "
            "(training part only). Off by default: it did not raise validation macro-F1 on the sample.",
        )
        mixed_precision = st.checkbox(
            "Faster, shorter numbers",
            base.mixed_precision,
            help="Computes with 16-bit numbers (bf16 mixed precision) where the hardware does so natively "
            "(most GPUs, recent CPUs): faster, same quality in our measurements. Off: full 32-bit.",
        )
        pooling = st.selectbox(
            "How the model sums up a review",
            ["mean", "cls"],
            index=["mean", "cls"].index(base.pooling),
            format_func={
                "mean": "Average of all words (recommended)",
                "cls": "The model's own summary marker",
            }.__getitem__,
            help="Before deciding, the model turns the review into one summary. Averaging every word scored "
            "higher on the sample's validation splits. For engineers: mean pooling vs the [CLS] pooler; "
            "models with mean pooling load with pipeline(..., trust_remote_code=True).",
        )
    return dataclasses.replace(
        base,
        model_source=custom.strip() or BUNDLED_MODEL,
        epochs=int(epochs),
        # Passes someone typed are theirs to keep; the preset's own count still grows on a small dataset
        # and shrinks on a large one.
        min_steps=base.min_steps if int(epochs) == base.epochs else 0,
        max_steps=base.max_steps if int(epochs) == base.epochs else 0,
        learning_rate=float(learning_rate),
        head_learning_rate=float(head_learning_rate),
        batch_size=int(batch_size),
        max_tokens=int(max_tokens),
        warmup_ratio=float(warmup),
        weight_decay=float(decay),
        seed=int(seed),
        validation_share=float(validation),
        layer_lr_decay=float(layer_decay),
        restore_best_epoch=bool(restore_best),
        early_stopping_patience=int(patience),
        frozen_layers=int(frozen_layers),
        class_weighting=class_weighting,
        class_weight_power=class_weight_power,
        logit_adjustment=logit_adjustment,
        freeze_embeddings=bool(freeze_embeddings),
        dropout=float(dropout),
        label_smoothing=float(smoothing),
        augment_small_classes=bool(augment),
        mixed_precision=bool(mixed_precision),
        pooling=str(pooling),
    )
