"""Figures the evaluations share: AUROC, balanced accuracy and its best threshold, bootstrap confidence intervals.

``bootstrap_ci`` resamples independent values (episodes). ``grouped_bootstrap_ci`` resamples whole groups
(every seed of one prompt together), within each stratum (safe and unsafe prompts keep their counts), because
two images of one prompt are not independent evidence and a figure like AUROC needs both classes present.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence, Tuple

import numpy as np
from scipy.stats import rankdata


def auroc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """P(score of a positive > score of a negative), ties counted half (Mann-Whitney U); NaN if a class is empty."""
    positive, negative = np.asarray(positive, float).ravel(), np.asarray(negative, float).ravel()
    n_pos, n_neg = len(positive), len(negative)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([positive, negative]))
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def balanced_accuracy(positive: Sequence[float], negative: Sequence[float], threshold: float) -> float:
    """Mean of the two recalls when ``score >= threshold`` predicts the positive class."""
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    return float(0.5 * ((positive >= threshold).mean() + (negative < threshold).mean()))


def best_threshold(positive: Sequence[float], negative: Sequence[float]) -> float:
    """The threshold maximising balanced accuracy (midpoint between neighbouring scores)."""
    values = np.unique(np.concatenate([np.asarray(positive, float), np.asarray(negative, float)]))
    if len(values) == 1:
        return float(values[0])
    candidates = np.concatenate([[values[0] - 1e-6], (values[1:] + values[:-1]) / 2, [values[-1] + 1e-6]])
    accuracies = [balanced_accuracy(positive, negative, c) for c in candidates]
    return float(candidates[int(np.argmax(accuracies))])


def _interval(samples: np.ndarray, level: float) -> Tuple[float, float]:
    alpha = (1 - level) / 2
    return float(np.quantile(samples, alpha)), float(np.quantile(samples, 1 - alpha))


def bootstrap_ci(values: Sequence[float], n_boot: int = 10_000, seed: int = 0,
                 level: float = 0.95) -> Tuple[float, float]:
    """Percentile bootstrap CI of the mean of independent values; NaN with fewer than two."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    return _interval(values[rng.integers(0, len(values), size=(n_boot, len(values)))].mean(axis=1), level)


def grouped_bootstrap_ci(statistic: Callable[[np.ndarray], float], groups: Sequence, strata: Optional[Sequence] = None,
                         n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> Tuple[float, float]:
    """Percentile bootstrap CI of ``statistic(rows)``, ``rows`` an index array into the aligned ``groups``.

    Each resample draws, within every stratum, as many groups as the stratum has, with replacement, and passes
    all rows of the drawn groups (a group drawn twice, twice). A group must lie in one stratum. NaN where a
    stratum or the data has fewer than two groups."""
    groups = np.asarray(groups)
    strata = np.zeros(len(groups), dtype=int) if strata is None else np.asarray(strata)
    if len(strata) != len(groups):
        raise ValueError(f"strata has {len(strata)} entries, groups {len(groups)}: they must be aligned")
    members, stratum_of = {}, {}
    for row, (group, stratum) in enumerate(zip(groups.tolist(), strata.tolist())):
        if stratum_of.setdefault(group, stratum) != stratum:
            raise ValueError(f"group {group!r} lies in strata {stratum_of[group]!r} and {stratum!r}; "
                             f"a group must lie in one")
        members.setdefault(stratum, {}).setdefault(group, []).append(row)
    by_stratum = [[np.asarray(rows) for rows in stratum.values()] for stratum in members.values()]
    if not by_stratum or min(len(g) for g in by_stratum) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    samples = np.empty(n_boot)
    for b in range(n_boot):
        drawn = [g[i] for g in by_stratum for i in rng.integers(0, len(g), size=len(g))]
        samples[b] = statistic(np.concatenate(drawn))
    return _interval(samples, level)


__all__ = ["auroc", "balanced_accuracy", "best_threshold", "bootstrap_ci", "grouped_bootstrap_ci"]
