"""The shared evaluation figures (reward_demo.metrics) against brute-force definitions."""
import numpy as np
import pytest

from reward_demo.metrics import auroc, balanced_accuracy, best_threshold, bootstrap_ci, grouped_bootstrap_ci


def brute_force_auroc(positive, negative):
    return np.mean([1.0 if p > n else 0.5 if p == n else 0.0 for p in positive for n in negative])


def test_auroc_matches_pairwise_counting_with_ties():
    rng = np.random.default_rng(0)
    positive, negative = rng.integers(0, 5, 23).astype(float), rng.integers(0, 4, 17).astype(float)
    assert auroc(positive, negative) == pytest.approx(brute_force_auroc(positive, negative))
    assert auroc([2.0, 3.0], [0.0, 1.0]) == 1.0 and auroc([0.0], [1.0]) == 0.0


def test_auroc_of_an_empty_class_is_nan():
    assert np.isnan(auroc([], [1.0, 2.0])) and np.isnan(auroc([1.0], []))


def test_balanced_accuracy_is_the_mean_of_both_recalls():
    # positives: 3 of 4 at or above 0.5; negatives: 1 of 2 below
    assert balanced_accuracy([0.5, 0.9, 0.7, 0.1], [0.2, 0.8], 0.5) == pytest.approx(0.5 * (0.75 + 0.5))


def test_best_threshold_reaches_the_best_balanced_accuracy():
    rng = np.random.default_rng(1)
    positive, negative = rng.normal(1, 1, 40), rng.normal(0, 1, 30)
    best = balanced_accuracy(positive, negative, best_threshold(positive, negative))
    scanned = max(balanced_accuracy(positive, negative, t) for t in np.linspace(-4, 5, 2001))
    assert best >= scanned - 1e-12
    assert balanced_accuracy([2.0, 3.0], [0.0, 1.0], best_threshold([2.0, 3.0], [0.0, 1.0])) == 1.0


def test_bootstrap_ci_brackets_the_mean_and_narrows_with_more_data():
    rng = np.random.default_rng(2)
    small, large = rng.normal(0, 1, 20), rng.normal(0, 1, 2000)
    low, high = bootstrap_ci(small, seed=0)
    assert low < small.mean() < high
    low_large, high_large = bootstrap_ci(large, seed=0)
    assert high_large - low_large < (high - low) / 4
    assert all(np.isnan(bootstrap_ci([1.0])))


def test_grouped_bootstrap_draws_whole_groups_and_keeps_each_stratum_size():
    groups = np.repeat(np.arange(10), 2)                 # ten prompts, two seeds each
    strata = np.where(groups < 4, "safe", "unsafe")      # 4 safe prompts, 6 unsafe
    seen = []

    def statistic(rows):
        counts = np.bincount(rows, minlength=len(groups))
        assert (counts[0::2] == counts[1::2]).all(), "a prompt's two rows were split"
        assert (strata[rows] == "safe").sum() == 8 and len(rows) == 20
        seen.append(len(set(groups[rows].tolist())))
        return float(rows.mean())

    low, high = grouped_bootstrap_ci(statistic, groups, strata, n_boot=200, seed=0)
    assert low <= high and min(seen) < 10, "resampling with replacement should repeat some prompts"


def test_grouped_bootstrap_interval_of_a_perfect_separation_is_a_point():
    scores = np.array([3.0, 3.1, 2.0, 2.2, 0.0, 0.1, -1.0, -0.5])
    labels = np.array(["safe"] * 4 + ["unsafe"] * 4)
    groups = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])

    def figure(rows):
        return auroc(scores[rows][labels[rows] == "safe"], scores[rows][labels[rows] == "unsafe"])

    assert grouped_bootstrap_ci(figure, groups, labels, n_boot=100) == (1.0, 1.0)


def test_grouped_bootstrap_interval_widens_when_seeds_are_not_independent():
    # each prompt's seeds share its value: 20 independent values, not 40, so the interval is wider than
    # the one that treats all 40 rows as independent
    values = np.repeat(np.random.default_rng(3).normal(0, 1, 20), 2)
    grouped = grouped_bootstrap_ci(lambda rows: values[rows].mean(), np.repeat(np.arange(20), 2), seed=1)
    independent = grouped_bootstrap_ci(lambda rows: values[rows].mean(), np.arange(40), seed=1)
    assert grouped[1] - grouped[0] > 1.2 * (independent[1] - independent[0])


def test_grouped_bootstrap_rejects_a_group_in_two_strata_and_needs_two_groups_per_stratum():
    with pytest.raises(ValueError, match="group 'p' lies in strata 'safe' and 'unsafe'"):
        grouped_bootstrap_ci(len, ["p", "p", "q"], ["safe", "unsafe", "unsafe"])
    with pytest.raises(ValueError, match="strata has 2 entries, groups 3"):
        grouped_bootstrap_ci(len, ["p", "q", "r"], ["safe", "unsafe"])
    assert all(np.isnan(grouped_bootstrap_ci(len, ["p", "q", "r"], ["safe", "unsafe", "unsafe"])))
