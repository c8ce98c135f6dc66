"""Train page pieces: setup, the live run (a fragment polling the database), and the run history."""

from __future__ import annotations

import dataclasses
from typing import cast

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.db import Database
from core.models import RunStatus
from core.quality import Margin
from core.services.datasets import DatasetRef
from core.services.training import (
    RunProgress,
    RunSummary,
    active_run,
    cancel_run,
    delete_run,
    latest_run,
    list_runs,
    run_progress,
    start_training,
    training_setup,
)
from core.training.config import BUNDLED_MODEL, DEFAULT_PRESET, PRESETS, TrainConfig
from core.training.data import MIN_EXAMPLES_PER_CLASS
from ui.formatting import device_text, duration_text, margin_text, percent_text, points_text, run_kind
from ui.resources import device_description, get_runner, runs_dir
from ui.search_views import search_setup_ui
from ui.widgets import plot_text, user_errors

REFRESH_S = 1.0
_MACRO_F1_HELP = "The average of each label's F1 score: every label counts the same, however rare."
HISTORY_REFRESH_S = 3.0
_PRESET_HELP = {
    "Quick": "Minutes on a laptop CPU: short inputs, two passes over the data.",
    "Balanced": "The default: longer inputs, four passes, class weighting, early stopping.",
    "Best": "More passes and longer inputs. Meant for a GPU.",
}
# Material icons render everywhere; emoji need a font that headless and locked-down browsers may lack.
_STATUS_ICONS = {
    RunStatus.QUEUED: ":material/schedule:",
    RunStatus.RUNNING: ":material/play_circle:",
    RunStatus.SUCCEEDED: ":green[:material/check_circle:]",
    RunStatus.FAILED: ":red[:material/error:]",
    RunStatus.CANCELLED: ":material/stop_circle:",
    RunStatus.INTERRUPTED: ":orange[:material/warning:]",
}


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

    preset = st.segmented_control(
        "Preset", list(PRESETS), default=DEFAULT_PRESET, key="train_preset", required=True
    )
    st.caption(_PRESET_HELP[preset])
    config = _advanced_ui(PRESETS[preset])
    st.caption(f"Will train on: {device_description()}")
    if st.button(
        "Start training", type="primary", icon=":material/play_arrow:", disabled=not setup.can_train
    ):
        with user_errors():
            run_id = start_training(db, dataset.id, config, preset=preset)
            get_runner().wake()
            st.toast(
                f"Run #{run_id} queued; it starts as soon as the trainer is free.", icon=":material/schedule:"
            )
            st.rerun()
    search_setup_ui(db, dataset, config, preset, setup.can_train)


_WEIGHTING = {1.0: "Full", 0.5: "Square root (recommended)", 0.0: "None"}


def _advanced_ui(base: TrainConfig) -> TrainConfig:
    with st.expander("Advanced", icon=":material/tune:"):
        custom = st.text_input(
            "Model",
            value="",
            placeholder="Bundled MiniLM-L6 (works offline)",
            help="Leave empty for the bundled model, or give a Hugging Face id (needs internet) or a local folder.",
        )
        epochs_col, lr_col, head_lr_col = st.columns(3)
        epochs = epochs_col.number_input(
            "Passes over the data", 1, 50, base.epochs, help="Epochs: how often the model reads every review."
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
        batch_col, tokens_col, seed_col = st.columns(3)
        batch_size = batch_col.number_input("Batch size", 1, 512, base.batch_size)
        max_tokens = tokens_col.number_input(
            "Words read", 16, 512, base.max_tokens, step=16, help="Max tokens: longer reviews are cut."
        )
        seed = seed_col.number_input(
            "Seed", 0, 2**31 - 1, base.seed, help="The same seed and settings give the same model."
        )
        validation_col, warmup_col, decay_col = st.columns(3)
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
            help="Share of steps with a rising learning rate.",
        )
        decay = decay_col.number_input(
            "Weight decay",
            0.0,
            1.0,
            base.weight_decay,
            step=0.01,
            help="Keeps weights small against overfitting.",
        )
        layer_col, frozen_col, weighting_col = st.columns(3)
        layer_decay = layer_col.number_input(
            "Layer rate decay",
            0.1,
            1.0,
            base.layer_lr_decay,
            step=0.05,
            help="Each layer below the top learns at this share of the one above: lower layers hold general language.",
        )
        frozen_layers = frozen_col.number_input("Freeze lower layers", 0, 24, base.frozen_layers)
        power = weighting_col.selectbox(
            "Rare labels weigh",
            list(_WEIGHTING),
            index=list(_WEIGHTING).index(base.class_weight_power)
            if base.class_weight_power in _WEIGHTING
            else 1,
            format_func=_WEIGHTING.__getitem__,
            help="Class weighting: how much more a review of a rare label counts in training.",
        )
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
        )
        freeze_embeddings = st.checkbox("Freeze the embeddings", base.freeze_embeddings)
        augment = st.checkbox(
            "Augment small classes",
            base.augment_small_classes,
            help="Adds copies of reviews from small labels with a few words dropped or swapped "
            "(training part only). Off by default: it did not raise validation macro-F1 on the sample.",
        )
        mixed_precision = st.checkbox(
            "bf16 mixed precision",
            base.mixed_precision,
            help="Used only where the hardware runs bf16 natively (most GPUs, recent CPUs); faster, "
            "same quality in our measurements. Off trains in full fp32.",
        )
        pooling = st.selectbox(
            "Head",
            ["mean", "cls"],
            index=["mean", "cls"].index(base.pooling),
            format_func={"mean": "Mean pooling (recommended)", "cls": "[CLS] pooler"}.__getitem__,
            help="Mean pooling scored higher on the sample's validation split (bench/pooling_compare.py). "
            "Models saved with it load with pipeline(..., trust_remote_code=True).",
        )
    return dataclasses.replace(
        base,
        model_source=custom.strip() or BUNDLED_MODEL,
        epochs=int(epochs),
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
        class_weighting=float(power) > 0,
        class_weight_power=float(power) if float(power) > 0 else base.class_weight_power,
        freeze_embeddings=bool(freeze_embeddings),
        augment_small_classes=bool(augment),
        mixed_precision=bool(mixed_precision),
        pooling=str(pooling),
    )


@st.fragment(run_every=REFRESH_S)
def live_run_ui(db: Database, dataset: DatasetRef) -> None:
    """Polls the database once a second; the training thread never touches Streamlit."""
    run = active_run(db)
    if run is not None and run.dataset_id != dataset.id:
        st.info(
            f"The trainer is busy with run #{run.id} of “{run.dataset_name}”. "
            "A run started here waits until it ends.",
            icon=":material/hourglass_top:",
        )
        run = None
    if run is None:
        latest = latest_run(db, dataset.id)
        if latest is not None:
            _finished_ui(run_progress(db, latest.id))
        else:
            st.caption("No run of this dataset yet. Pick a preset and press **Start training**.")
        return
    progress = run_progress(db, run.id)
    title = f"Run #{run.id} · {run_kind(run)}"
    if run.status == RunStatus.QUEUED:
        st.info(f"{title} is queued and starts when the trainer is free.", icon=":material/schedule:")
    else:
        _running_ui(progress, title)
    if progress.cancel_requested:
        st.caption("Cancelling…")
    elif st.button("Cancel", key=f"cancel_{run.id}", icon=":material/stop:"):
        with user_errors():
            cancel_run(db, run.id)
            st.rerun(scope="fragment")


def _running_ui(progress: RunProgress, title: str) -> None:
    total = progress.total_steps or 0
    eta = f" · about {duration_text(progress.eta_seconds)} left" if progress.eta_seconds is not None else ""
    if not total:
        label = f"{title} · preparing data and model…"
    elif progress.step >= total:
        label = f"{title} · learning done; scoring the test reviews and predicting every review{eta}"
    else:
        label = f"{title} · step {progress.step:,} of {total:,} · epoch {progress.epoch:.1f} of {progress.epochs}{eta}"
    st.progress(progress.summary.progress, text=label)
    speed, rate = st.columns(2)
    speed.metric(
        "Reviews per second", f"{progress.samples_per_second:,.1f}" if progress.samples_per_second else "—"
    )
    rate.metric("Learning rate", f"{progress.learning_rate:.2e}" if progress.learning_rate else "—")
    st.caption(f"On {progress.summary.device or 'a device being chosen'}")
    _curves_ui(progress)


def _curves_ui(progress: RunProgress) -> None:
    if not progress.train_curve:
        return
    figure = go.Figure()
    steps, losses = zip(*progress.train_curve, strict=True)
    figure.add_scatter(x=steps, y=losses, name="training loss", mode="lines")
    if progress.eval_curve:
        eval_steps, eval_loss, _, eval_f1 = zip(*progress.eval_curve, strict=True)
        figure.add_scatter(x=eval_steps, y=eval_loss, name="validation loss", mode="lines+markers")
        figure.add_scatter(
            x=eval_steps, y=eval_f1, name="validation macro-F1", mode="lines+markers", yaxis="y2"
        )
    figure.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title="step",
        yaxis_title="loss",
        # Whole percentages on a fixed 0-100% scale: the loss axis's grid would otherwise set odd ticks here.
        yaxis2={
            "title": "validation macro-F1",
            "overlaying": "y",
            "side": "right",
            "range": [0, 1],
            "tickmode": "linear",
            "dtick": 0.25,
            "tickformat": ".0%",
            "showgrid": False,
        },
        legend={"orientation": "h", "y": -0.25},
    )
    st.plotly_chart(figure, config={"displayModeBar": False}, key=f"curves_{progress.summary.id}")


def _finished_ui(progress: RunProgress) -> None:
    summary = progress.summary
    icon = _STATUS_ICONS[summary.status]
    st.markdown(f"**Latest run #{summary.id}** · {icon} {summary.status.value}")
    if summary.error:
        st.error(summary.error, icon=":material/error:")
    if progress.metrics.get("partial"):
        st.caption("Cancelled before the end: the curves and any validation scores below are partial.")
    test = progress.metrics.get("test") or {}
    validation = progress.metrics.get("validation") or {}
    if test or validation:
        a, b, c = st.columns(3)
        a.metric("Test accuracy", percent_text(test.get("accuracy")))
        b.metric("Test macro-F1", percent_text(test.get("macro_f1")), help=_MACRO_F1_HELP)
        c.metric("Validation macro-F1", percent_text(validation.get("macro_f1")), help=_MACRO_F1_HELP)
        d, e, _ = st.columns(3)
        d.metric(
            "Learning time",
            duration_text(progress.metrics.get("train_seconds")),
            help="The passes over the training reviews.",
        )
        e.metric(
            "Whole job",
            duration_text(summary.duration.total_seconds() if summary.duration else None),
            help="From start to saved model: loading, learning, scoring and predicting every review.",
        )
        _margin_ui(summary)
    if test.get("confusion_matrix"):
        _confusion_ui(test)
    _curves_ui(progress)


def _margin_ui(summary: RunSummary) -> None:
    if summary.test_accuracy is None or summary.test_macro_f1 is None:
        return
    if summary.keyword_test_accuracy is None or summary.keyword_test_macro_f1 is None:
        return
    margin = Margin(
        (summary.test_accuracy - summary.keyword_test_accuracy) * 100,
        (summary.test_macro_f1 - summary.keyword_test_macro_f1) * 100,
    )
    if margin.beats:
        st.success(f"{margin_text(margin)}, on the test reviews.", icon=":material/trending_up:")
    else:
        st.warning(
            f"{margin_text(margin)}: not better than a keyword model yet. Label more reviews of the "
            "weakest label (see Results), or try Balanced or **Search for better settings**.",
            icon=":material/lightbulb:",
        )


def _confusion_ui(scores: dict[str, object]) -> None:
    labels = [plot_text(str(name)) for name in cast(list[object], scores["labels"])]
    matrix = scores["confusion_matrix"]
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=labels,
            y=labels,
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            hovertemplate="true %{y} → predicted %{x}: %{z}<extra></extra>",
            showscale=False,
        )
    )
    figure.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="Test confusion matrix",
        xaxis_title="predicted",
        yaxis_title="true",
        yaxis={"autorange": "reversed"},
    )
    st.plotly_chart(figure, config={"displayModeBar": False})


# A fragment of its own, refreshed like the live view, so a run that just ended shows up here
# without redrawing the setup form the user may be editing.
@st.fragment(run_every=HISTORY_REFRESH_S)
def history_ui(db: Database, dataset: DatasetRef) -> None:
    runs = list_runs(db, dataset.id)
    if not runs:
        st.caption("Finished runs of this dataset appear here.")
        return
    frame = pd.DataFrame(
        {
            "Run": [f"#{r.id}" for r in runs],
            "Status": [r.status.value for r in runs],
            "Preset": [run_kind(r) for r in runs],
            "Model": [
                "bundled MiniLM-L6" if r.model_source == BUNDLED_MODEL else r.model_source for r in runs
            ],
            "Trained on": [f"{r.train_samples:,} reviews" if r.train_samples else "—" for r in runs],
            "Test accuracy": [percent_text(r.test_accuracy) for r in runs],
            "Test macro-F1": [percent_text(r.test_macro_f1) for r in runs],
            "vs keyword model": [
                points_text((r.test_macro_f1 - r.keyword_test_macro_f1) * 100)
                if r.test_macro_f1 is not None and r.keyword_test_macro_f1 is not None
                else "—"
                for r in runs
            ],
            "Whole job": [duration_text(r.duration.total_seconds() if r.duration else None) for r in runs],
            "Device": [device_text(r.device) for r in runs],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "vs keyword model": st.column_config.TextColumn(
                help="Test macro-F1 over a keyword model fitted on the same reviews, in percentage points."
            ),
            "Whole job": st.column_config.TextColumn(
                help="From start to saved model: loading, learning, scoring and predicting every review."
            ),
        },
    )
    deletable = [r.id for r in runs if r.status not in (RunStatus.QUEUED, RunStatus.RUNNING)]
    if not deletable:
        return
    with st.popover("Delete a run", icon=":material/delete:"):
        run_id = st.selectbox("Run", deletable, format_func=lambda i: f"#{i}", key="delete_run_choice")
        sure = st.checkbox("Also delete its model and predictions", key="delete_run_sure")
        if st.button("Delete", type="primary", disabled=not sure, key="delete_run_go"):
            with user_errors():
                delete_run(db, run_id, runs_dir=runs_dir())
                st.toast(f"Deleted run #{run_id}.", icon=":material/delete:")
                st.rerun(scope="fragment")
