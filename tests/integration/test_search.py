"""Hyperparameter search: Optuna trials as a queued series of real runs on a tiny model."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from core.config import Settings
from core.db import Database
from core.errors import InvalidInputError
from core.models import RunStatus, TrainingRun, utcnow
from core.services.search import (
    SearchSpace,
    continue_search,
    latest_search,
    resume_searches,
    search_report,
    start_search,
    stop_search,
)
from core.services.training import list_runs, run_progress
from core.training.config import TrainConfig
from core.training.device import choose_device
from core.training.job import run_training_job
from core.training.runner import STALE_AFTER, TrainingRunner, claim_next_run, recover_interrupted_runs
from tests.integration.training_helpers import dead_trainer, make_dataset, tiny_config, wait_for

pytestmark = pytest.mark.integration

SPACE = SearchSpace(learning_rate=(1e-4, 1e-3), epochs=(1, 2), batch_sizes=(4, 8))


def test_trials_run_one_after_another_and_the_best_is_picked_on_validation(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    dataset_id = make_dataset(db)
    # The base asks for more steps than any trial's passes give: trials still make exactly their passes.
    base = tiny_config(tiny_model, min_steps=200)
    search_id = start_search(db, dataset_id, base, trials=3, preset="Quick", space=SPACE)
    assert len(list_runs(db)) == 1  # only the first trial is queued; the next is asked for after it ends
    runner = TrainingRunner(db, settings.runs_dir, device_chooser=lambda: choose_device(prefer_cpu=True))
    runner.start().wake()
    try:

        def finished() -> bool:
            assert sum(r.status == RunStatus.RUNNING for r in list_runs(db)) <= 1
            return search_report(db, search_id).finished

        wait_for(finished, timeout=180)
    finally:
        runner.stop()
    report = search_report(db, search_id)
    assert [t.number for t in report.trials] == [1, 2, 3]
    assert all(t.status == RunStatus.SUCCEEDED for t in report.trials)
    for trial in report.trials:
        assert 1e-4 <= trial.learning_rate <= 1e-3
        assert trial.epochs in (1, 2) and trial.batch_size in (4, 8)
        assert trial.validation_macro_f1 is not None
        config = run_progress(db, trial.run_id).config
        assert config["max_tokens"] == 32  # everything not searched comes from the base config
        assert (
            config["epochs"] == trial.epochs
            and len(run_progress(db, trial.run_id).eval_curve) == trial.epochs
        )
    scores = [t.validation_macro_f1 for t in report.trials]
    assert report.best is not None and report.best.validation_macro_f1 == max(scores)  # type: ignore[type-var]
    assert latest_search(db, dataset_id) == report
    assert continue_search(db, report.trials[-1].run_id) is None  # all trials used: nothing more queued


def test_a_double_click_starts_one_search_and_a_second_search_waits_its_turn(
    db: Database, tiny_model: str
) -> None:
    dataset_id = make_dataset(db)
    first = start_search(db, dataset_id, tiny_config(tiny_model), trials=3, preset=None, space=SPACE)
    assert start_search(db, dataset_id, tiny_config(tiny_model), trials=3, preset=None, space=SPACE) == first
    with pytest.raises(InvalidInputError, match="already under way"):
        start_search(db, dataset_id, tiny_config(tiny_model, seed=5), trials=3, preset=None, space=SPACE)
    with pytest.raises(InvalidInputError, match="between"):
        start_search(db, dataset_id, tiny_config(tiny_model), trials=1, preset=None)


def test_the_same_seed_asks_for_the_same_first_trial(db: Database, tiny_model: str) -> None:
    dataset_id = make_dataset(db)
    first = start_search(db, dataset_id, tiny_config(tiny_model), trials=2, preset=None, space=SPACE)
    stop_search(db, first)
    second = start_search(db, dataset_id, tiny_config(tiny_model), trials=2, preset=None, space=SPACE)
    a, b = search_report(db, first).trials[0], search_report(db, second).trials[0]
    assert (a.learning_rate, a.epochs, a.batch_size) == (b.learning_rate, b.epochs, b.batch_size)
    assert a.run_id != b.run_id


def test_stopping_drops_the_queued_trial(db: Database, tiny_model: str) -> None:
    search_id = start_search(db, make_dataset(db), tiny_config(tiny_model), trials=4, preset=None)
    stop_search(db, search_id)
    report = search_report(db, search_id)
    assert report.stopped and report.finished
    assert [t.status for t in report.trials] == [RunStatus.CANCELLED]
    assert claim_next_run(db) is None


def test_a_failed_trial_stops_the_search_with_its_reason(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    search_id = start_search(
        db, make_dataset(db), TrainConfig(model_source="no-such-org/no-such-model"), trials=3, preset=None
    )
    run_id = claim_next_run(db)
    assert run_id is not None
    assert run_training_job(run_id, db, runs_dir=settings.runs_dir) == RunStatus.FAILED
    assert continue_search(db, run_id) is None
    report = search_report(db, search_id)
    assert report.stopped and report.finished
    assert "Trial 1 failed" in (report.stop_reason or "")
    assert "no-such-org/no-such-model" in (report.stop_reason or "")


def test_an_interrupted_trial_is_tried_again_after_a_restart(db: Database, tiny_model: str) -> None:
    search_id = start_search(db, make_dataset(db), tiny_config(tiny_model), trials=2, preset=None)
    assert (
        claim_next_run(db, claimed_by=dead_trainer()) is not None
    )  # the old process took trial 1, then died
    assert recover_interrupted_runs(db) == 1
    assert resume_searches(db) == 1
    trials = search_report(db, search_id).trials
    assert [(t.number, t.status) for t in trials] == [(1, RunStatus.INTERRUPTED), (1, RunStatus.QUEUED)]
    assert resume_searches(db) == 0  # a trial is already queued: nothing doubles up


def test_a_trial_lost_with_another_machine_is_tried_again_while_the_app_runs(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    search_id = start_search(db, make_dataset(db), tiny_config(tiny_model), trials=2, preset=None)
    lost = claim_next_run(db, claimed_by="gpu-box:4242:abcd")
    runner = TrainingRunner(db, settings.runs_dir).start()  # its heartbeat is fresh: nothing to recover
    try:
        assert run_progress(db, lost).summary.status == RunStatus.RUNNING
        with db.write() as session:  # then the GPU machine goes silent
            session.execute(
                update(TrainingRun)
                .where(TrainingRun.id == lost)
                .values(heartbeat_at=utcnow() - STALE_AFTER - timedelta(seconds=1))
            )

        def first_trials() -> list[str]:
            # Sorted: both are trial 1, and the databases list equal numbers in either order.
            return sorted(t.status.value for t in search_report(db, search_id).trials if t.number == 1)

        # Trial 1 again, here: the search goes on as it does after a restart.
        wait_for(lambda: first_trials() == ["interrupted", "succeeded"], timeout=120)
    finally:
        runner.stop()
