"""Hyperparameter search: a queued series of training runs, each trial's settings asked of Optuna.

The database is the study's only storage. When a trial ends, the runner calls `continue_search`,
which rebuilds an in-memory Optuna study from the finished trials (their validation macro-F1 is the
objective) and queues the next trial as an ordinary run. So a search survives an app restart
(`resume_searches`), shows in the run history like any run, and never trains two things at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import InvalidInputError, NotFoundError
from core.models import HyperparameterSearch, RunStatus, TrainingRun, utcnow
from core.services.training import ACTIVE, queue_run
from core.training.config import TrainConfig

MIN_TRIALS, MAX_TRIALS = 2, 30
# Optuna's TPE needs a few random trials before it can model anything.
_STARTUP_TRIALS = 3


@dataclass(frozen=True)
class SearchSpace:
    learning_rate: tuple[float, float] = (1e-5, 2e-4)
    epochs: tuple[int, int] = (2, 6)
    batch_sizes: tuple[int, ...] = (8, 16, 32)

    def to_dict(self) -> dict[str, Any]:
        return {
            "learning_rate": list(self.learning_rate),
            "epochs": list(self.epochs),
            "batch_sizes": list(self.batch_sizes),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SearchSpace:
        return cls(
            learning_rate=(float(values["learning_rate"][0]), float(values["learning_rate"][1])),
            epochs=(int(values["epochs"][0]), int(values["epochs"][1])),
            batch_sizes=tuple(int(b) for b in values["batch_sizes"]),
        )

    def describe(self) -> str:
        low, high = self.learning_rate
        sizes = ", ".join(str(b) for b in self.batch_sizes)
        return (
            f"learning rate {low:g} to {high:g}, {self.epochs[0]} to {self.epochs[1]} epochs, "
            f"batch size {sizes}"
        )

    def distributions(self) -> dict[str, Any]:
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        return {
            "learning_rate": FloatDistribution(*self.learning_rate, log=True),
            "epochs": IntDistribution(*self.epochs),
            "batch_size": CategoricalDistribution(list(self.batch_sizes)),
        }


DEFAULT_SPACE = SearchSpace()


@dataclass(frozen=True)
class Trial:
    number: int
    run_id: int
    status: RunStatus
    learning_rate: float
    epochs: int
    batch_size: int
    validation_macro_f1: float | None
    test_macro_f1: float | None
    duration: timedelta | None


@dataclass(frozen=True)
class SearchReport:
    id: int
    dataset_id: int
    preset: str | None
    space: SearchSpace
    planned: int
    trials: list[Trial]
    stopped: bool
    stop_reason: str | None

    @property
    def active(self) -> bool:
        return any(t.status in ACTIVE for t in self.trials)

    @property
    def finished(self) -> bool:
        return not self.active and (self.stopped or self._counted >= self.planned)

    @property
    def _counted(self) -> int:
        return sum(1 for t in self.trials if t.status != RunStatus.INTERRUPTED)

    @property
    def best(self) -> Trial | None:
        scored = [
            t for t in self.trials if t.validation_macro_f1 is not None and t.status == RunStatus.SUCCEEDED
        ]
        return max(scored, key=lambda t: (t.validation_macro_f1, -t.number), default=None)


def start_search(
    db: Database,
    dataset_id: int,
    base: TrainConfig,
    *,
    trials: int,
    preset: str | None,
    space: SearchSpace = DEFAULT_SPACE,
) -> int:
    """Create a search and queue its first trial. A repeated request (a double click) returns the first."""
    base = base.validated()
    if not MIN_TRIALS <= trials <= MAX_TRIALS:
        raise InvalidInputError(f"A search runs between {MIN_TRIALS} and {MAX_TRIALS} trials.")
    with db.write() as session:
        running = [
            s
            for s in session.scalars(
                select(HyperparameterSearch).where(HyperparameterSearch.stopped.is_(False))
            )
            if not _is_done(session, s)
        ]
        for search in running:
            if (
                search.dataset_id == dataset_id
                and search.base_config == base.to_dict()
                and search.trials == trials
            ):
                return search.id
        if running:
            raise InvalidInputError("A search is already under way. Stop it, or wait for it to finish.")
        search = HyperparameterSearch(
            dataset_id=dataset_id,
            preset=preset,
            base_config=base.to_dict(),
            space=space.to_dict(),
            trials=trials,
            seed=base.seed,
        )
        session.add(search)
        session.flush()
        _queue_next_trial(session, search)
        return search.id


def continue_search(db: Database, run_id: int) -> int | None:
    """After a trial run ends: queue the next trial, or stop the search. Returns the new run id."""
    with db.write() as session:
        run = session.get(TrainingRun, run_id)
        if run is None or run.search_id is None:
            return None
        search = session.get(HyperparameterSearch, run.search_id)
        if search is None or search.stopped:
            return None
        if run.status == RunStatus.FAILED:
            search.stopped = True
            search.stop_reason = f"Trial {run.trial_number} failed: {run.error}"
            return None
        if run.status == RunStatus.CANCELLED:
            search.stopped = True
            search.stop_reason = f"Trial {run.trial_number} was cancelled."
            return None
        return _queue_next_trial(session, search)


def resume_searches(db: Database) -> int:
    """On app start: searches whose running trial was interrupted go on with a fresh trial."""
    resumed = 0
    with db.write() as session:
        for search in session.scalars(
            select(HyperparameterSearch).where(HyperparameterSearch.stopped.is_(False))
        ):
            if _has_active_trial(session, search.id):
                continue
            if _queue_next_trial(session, search) is not None:
                resumed += 1
    return resumed


def stop_search(db: Database, search_id: int) -> None:
    """No further trials; a queued trial is dropped and a running one cancelled within about a second."""
    with db.write() as session:
        search = session.get(HyperparameterSearch, search_id)
        if search is None:
            raise NotFoundError("That search no longer exists.")
        search.stopped = True
        search.stop_reason = search.stop_reason or "Stopped by a user."
        for run in session.scalars(
            select(TrainingRun).where(TrainingRun.search_id == search_id, TrainingRun.status.in_(ACTIVE))
        ):
            if run.status == RunStatus.QUEUED:
                run.status, run.finished_at, run.metrics = RunStatus.CANCELLED, utcnow(), {"partial": True}
            else:
                run.cancel_requested = True


def search_report(db: Database, search_id: int) -> SearchReport:
    with db.read() as session:
        search = session.get(HyperparameterSearch, search_id)
        if search is None:
            raise NotFoundError("That search no longer exists.")
        runs = session.scalars(
            select(TrainingRun).where(TrainingRun.search_id == search_id).order_by(TrainingRun.trial_number)
        ).all()
        return SearchReport(
            id=search.id,
            dataset_id=search.dataset_id,
            preset=search.preset,
            space=SearchSpace.from_dict(search.space),
            planned=search.trials,
            trials=[_trial(run) for run in runs],
            stopped=search.stopped,
            stop_reason=search.stop_reason,
        )


def latest_search(db: Database, dataset_id: int) -> SearchReport | None:
    with db.read() as session:
        search_id = session.scalar(
            select(HyperparameterSearch.id)
            .where(HyperparameterSearch.dataset_id == dataset_id)
            .order_by(HyperparameterSearch.id.desc())
            .limit(1)
        )
    return search_report(db, search_id) if search_id is not None else None


def _trial(run: TrainingRun) -> Trial:
    metrics = run.metrics or {}
    config = run.config or {}
    duration = None
    if run.started_at is not None and run.finished_at is not None:
        duration = run.finished_at - run.started_at
    return Trial(
        number=run.trial_number or 0,
        run_id=run.id,
        status=RunStatus(run.status),
        learning_rate=float(config.get("learning_rate", 0.0)),
        epochs=int(config.get("epochs", 0)),
        batch_size=int(config.get("batch_size", 0)),
        validation_macro_f1=(metrics.get("validation") or {}).get("macro_f1"),
        test_macro_f1=(metrics.get("test") or {}).get("macro_f1"),
        duration=duration,
    )


def _has_active_trial(session: Session, search_id: int) -> bool:
    return (
        session.scalar(
            select(TrainingRun.id)
            .where(TrainingRun.search_id == search_id, TrainingRun.status.in_(ACTIVE))
            .limit(1)
        )
        is not None
    )


def _trial_runs(session: Session, search_id: int) -> list[TrainingRun]:
    # An interrupted trial (the app stopped mid-run) does not use up a slot: it is tried again.
    return list(
        session.scalars(
            select(TrainingRun).where(
                TrainingRun.search_id == search_id, TrainingRun.status != RunStatus.INTERRUPTED
            )
        )
    )


def _is_done(session: Session, search: HyperparameterSearch) -> bool:
    return not _has_active_trial(session, search.id) and len(_trial_runs(session, search.id)) >= search.trials


def _queue_next_trial(session: Session, search: HyperparameterSearch) -> int | None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = SearchSpace.from_dict(search.space)
    distributions = space.distributions()
    done = _trial_runs(session, search.id)
    if len(done) >= search.trials:
        return None
    number = max((run.trial_number or 0 for run in done), default=0) + 1
    # Rebuilt from the database each time; the seed moves with the trial number so random startup
    # trials differ while the whole search stays reproducible.
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(
            seed=search.seed * 1000 + number, n_startup_trials=_STARTUP_TRIALS
        ),
    )
    for run in done:
        score = ((run.metrics or {}).get("validation") or {}).get("macro_f1")
        if run.status != RunStatus.SUCCEEDED or score is None:
            continue
        params = {name: (run.config or {})[name] for name in distributions}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=score))
    params = study.ask(distributions).params
    config = dataclasses.replace(
        TrainConfig.from_dict(search.base_config),
        learning_rate=float(params["learning_rate"]),
        epochs=int(params["epochs"]),
        batch_size=int(params["batch_size"]),
        # The search chooses the passes itself: a trial makes exactly the passes it was asked for, and
        # its stored config reads back inside the search space.
        min_steps=0,
        max_steps=0,
    )
    return queue_run(
        session, search.dataset_id, config, preset=search.preset, search_id=search.id, trial_number=number
    )
