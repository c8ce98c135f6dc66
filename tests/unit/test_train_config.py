"""TrainConfig: presets validate, stored configs read back as what their run really did."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core.errors import InvalidInputError
from core.training.config import PRESETS, TrainConfig
from core.training.data import head_and_tail, kept_positions
from core.training.loop import class_weight_array, logit_offsets, training_loss


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_are_valid_and_round_trip(name: str) -> None:
    preset = PRESETS[name].validated()
    assert TrainConfig.from_dict(preset.to_dict()) == preset


def test_a_config_stored_before_the_new_recipe_reads_back_as_it_trained() -> None:
    old = {"epochs": 4, "learning_rate": 5e-5, "max_tokens": 256, "class_weighting": True, "seed": 13}
    config = TrainConfig.from_dict(old)
    assert config.head_learning_rate == config.learning_rate == 5e-5
    assert (config.layer_lr_decay, config.class_weight_power) == (1.0, 1.0)
    assert config.restore_best_epoch and not config.keep_tail and not config.freeze_embeddings
    assert config.dropout is None


def test_a_config_stored_before_the_dropout_field_keeps_the_models_own_dropout() -> None:
    stored = TrainConfig().to_dict()
    del stored["dropout"]
    assert TrainConfig.from_dict(stored).dropout is None
    assert TrainConfig().dropout == 0.0


def test_a_small_training_part_gets_more_passes_up_to_the_least_number_of_steps() -> None:
    config = TrainConfig(epochs=3, min_steps=96, batch_size=16)
    assert config.passes_for(510) == 3  # 32 steps a pass: three passes already take 96
    assert config.passes_for(5_000) == 3  # a larger part never gets fewer passes than asked
    assert config.passes_for(263) == 6  # 17 steps a pass
    assert config.passes_for(20) == 48  # 2 steps a pass
    assert config.passes_for(1) == 50  # never past the most passes a config may ask for
    assert TrainConfig(epochs=3, min_steps=0).passes_for(20) == 3
    quick = PRESETS["Quick"]
    assert quick.passes_for(510) == quick.epochs  # the sample's training part keeps the preset's passes
    with pytest.raises(InvalidInputError):
        TrainConfig(min_steps=-1).validated()


def test_a_large_training_part_gets_fewer_passes_up_to_the_most_steps() -> None:
    config = TrainConfig(epochs=3, min_steps=96, max_steps=320, batch_size=16)
    assert (config.passes_for(510), config.steps_for(510)) == (3, 96)  # 32 a pass: no limit reached
    assert not config.step_limit_applies(510)
    # 2,000 reviews: 125 steps a pass, so two full passes and 70 steps of a third.
    assert config.passes_for(2_000) == 3
    assert dataclasses.replace(config, epochs=3).steps_for(2_000) == 320
    assert config.passes_read(2_000) == pytest.approx(320 / 125)
    assert config.step_limit_applies(2_000)
    # 17,000 reviews: one part-way pass over a shuffled 5,120 of them.
    assert config.passes_for(17_000) == 1
    assert dataclasses.replace(config, epochs=1).steps_for(17_000) == 320
    assert config.passes_read(17_000) == pytest.approx(320 / 1_063)
    unlimited = dataclasses.replace(config, max_steps=0)
    assert (unlimited.passes_for(17_000), unlimited.steps_for(17_000)) == (3, 3 * 1_063)
    assert not unlimited.step_limit_applies(17_000)
    with pytest.raises(InvalidInputError):
        TrainConfig(min_steps=200, max_steps=100).validated()
    with pytest.raises(InvalidInputError):
        TrainConfig(max_steps=-1).validated()


def test_presets_named_for_their_time_keep_it_on_a_large_dataset() -> None:
    quick, balanced, best = (PRESETS[name] for name in ("Quick", "Balanced", "Best"))
    assert quick.steps_for(20_000) == quick.max_steps < balanced.steps_for(20_000) == balanced.max_steps
    assert best.steps_for(20_000) == best.epochs * 1_250  # Best reads every review, every pass


def test_class_weights_follow_their_power_and_keep_the_average_example_at_one() -> None:
    labels = [0] * 60 + [1] * 30 + [2] * 10
    full, root, none = (class_weight_array(labels, 3, power=p) for p in (1.0, 0.5, 0.0))
    np.testing.assert_allclose(none, 1.0)
    counts = np.bincount(labels)
    for weights in (full, root):
        assert (weights * counts).sum() == pytest.approx(len(labels))
    # Full weighting makes each class count the same; the square root halves the gap on a log scale.
    np.testing.assert_allclose(full * counts, (full * counts)[0])
    np.testing.assert_allclose(np.log(root[2] / root[0]), np.log(full[2] / full[0]) / 2)


def test_head_and_tail_keep_a_quarter_from_the_start_and_the_rest_from_the_end() -> None:
    ids = list(range(100))
    assert head_and_tail(ids, 20) == [*range(5), *range(85, 100)]
    assert head_and_tail(ids[:20], 20) == ids[:20]
    assert kept_positions(10, 20) == (10, 0)


def test_a_config_stored_before_label_smoothing_reads_back_without_it() -> None:
    stored = TrainConfig().to_dict()
    del stored["label_smoothing"]
    assert TrainConfig.from_dict(stored).label_smoothing == 0.0
    assert TrainConfig().label_smoothing == 0.1


def test_label_smoothing_outside_its_range_is_refused() -> None:
    from core.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="Label smoothing"):
        TrainConfig(label_smoothing=0.5).validated()


def test_a_config_stored_before_the_rarity_offset_reads_back_as_it_trained() -> None:
    stored = {**TrainConfig().to_dict(), "class_weighting": True}
    del stored["logit_adjustment"]
    config = TrainConfig.from_dict(stored).validated()
    assert (config.logit_adjustment, config.class_weighting, config.rare_label_power) == (0.0, True, 0.5)


def test_the_keyword_baseline_leans_toward_rare_labels_as_the_run_does() -> None:
    quick = PRESETS["Quick"]
    assert (quick.class_weighting, quick.rare_label_power) == (False, quick.logit_adjustment)
    assert TrainConfig(class_weight_power=1.0).rare_label_power == 1.0
    assert TrainConfig(class_weighting=False).rare_label_power is None


def test_class_weights_and_the_rarity_offset_are_not_combined() -> None:
    with pytest.raises(InvalidInputError, match="one way"):
        TrainConfig(class_weighting=True, logit_adjustment=0.5).validated()
    with pytest.raises(InvalidInputError, match="rarity offset"):
        TrainConfig(class_weighting=False, logit_adjustment=3.0).validated()


def test_the_training_loss_adds_the_scaled_log_label_shares_to_the_logits() -> None:
    labels = [0] * 60 + [1] * 30 + [2] * 10
    logits = torch.randn(8, 3, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([0, 1, 2, 0, 0, 1, 2, 2])
    config = TrainConfig(label_smoothing=0.1, class_weighting=False, logit_adjustment=0.5)
    loss = training_loss(config, labels, 3, torch.device("cpu"))(logits, targets)
    shares = torch.tensor([0.6, 0.3, 0.1])
    expected = torch.nn.functional.cross_entropy(
        logits + 0.5 * torch.log(shares), targets, label_smoothing=0.1
    )
    torch.testing.assert_close(loss, expected)
    # The offset favours the common label in training only, which is what leaves the plain logits
    # leaning toward the rare ones: a common-label target costs less than without it.
    plain = training_loss(
        TrainConfig(logit_adjustment=0.0, label_smoothing=0.1), labels, 3, torch.device("cpu")
    )
    common = targets == 0
    assert loss.item() != plain(logits, targets).item()
    adjusted_common = training_loss(config, labels, 3, torch.device("cpu"))(logits[common], targets[common])
    assert adjusted_common < plain(logits[common], targets[common])


def test_a_label_missing_from_training_keeps_a_finite_offset() -> None:
    offsets = logit_offsets([0, 0, 0, 1, 1], 3, strength=0.5)
    assert torch.isfinite(offsets).all()
    assert offsets[2] < offsets[1] < offsets[0]


@pytest.mark.parametrize(("pool", "share"), [(9_000, 0.15), (510, 0.15), (37, 0.15), (1_001, 0.2)])
def test_the_train_page_counts_the_training_part_as_the_run_cuts_it(pool: int, share: float) -> None:
    from core.training.data import _stratified_split, training_part_size

    rows = [(i, f"review {i}", i % 3) for i in range(pool)]
    train, _ = _stratified_split(rows, share, seed=13)
    assert training_part_size(pool, share) == len(train)
