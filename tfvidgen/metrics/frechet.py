"""The Fréchet distance between Gaussians fitted to features of two clip sets.

`d^2 = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2))`
(Fréchet/Wasserstein-2 between Gaussians; FID, Heusel et al. 2017; FVD,
Unterthiner et al. 2018). `tr((S_a S_b)^(1/2))` is computed as the sum of the
square roots of the eigenvalues of `S_a^(1/2) S_b S_a^(1/2)`, a symmetric PSD
matrix, so no general matrix square root (or SciPy) is needed.
"""

import numpy as np


def _symmetric_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mean_a, covariance_a, mean_b, covariance_b):
    """Squared Fréchet distance between N(mean_a, covariance_a) and N(mean_b, covariance_b)."""
    mean_a, mean_b = np.asarray(mean_a, np.float64), np.asarray(mean_b, np.float64)
    covariance_a, covariance_b = np.asarray(covariance_a, np.float64), np.asarray(covariance_b, np.float64)
    if mean_a.shape != mean_b.shape or covariance_a.shape != covariance_b.shape:
        raise ValueError(
            f"Feature statistics differ in shape: means {mean_a.shape} vs {mean_b.shape}, "
            f"covariances {covariance_a.shape} vs {covariance_b.shape}."
        )
    root = _symmetric_sqrt(covariance_a)
    product = root @ covariance_b @ root
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((product + product.T) / 2), 0.0, None)).sum()
    difference = mean_a - mean_b
    return float(difference @ difference + np.trace(covariance_a) + np.trace(covariance_b) - 2.0 * trace_sqrt)


class GaussianStatistics:
    """Streaming mean and covariance of feature vectors (float64)."""

    def __init__(self):
        self.count = 0
        self.total = None
        self.outer = None

    def update(self, features):
        features = np.asarray(features, np.float64).reshape(len(features), -1)
        if self.total is None:
            self.total = np.zeros(features.shape[1])
            self.outer = np.zeros((features.shape[1], features.shape[1]))
        self.count += len(features)
        self.total += features.sum(axis=0)
        self.outer += features.T @ features
        return self

    @property
    def mean(self):
        return self.total / self.count

    @property
    def covariance(self):
        if self.count < 2:
            raise ValueError(f"The covariance needs at least 2 feature vectors. Received: count={self.count}")
        mean = self.mean
        return (self.outer - self.count * np.outer(mean, mean)) / (self.count - 1)

    def distance_to(self, other):
        return frechet_distance(self.mean, self.covariance, other.mean, other.covariance)


def mean_pairwise_distance(features, max_pairs=20_000, seed=0):
    """Mean Euclidean distance between distinct pairs of feature vectors.

    Low values against the same figure for real clips show mode collapse.
    Uses at most `max_pairs` random pairs.
    """
    features = np.asarray(features, np.float64).reshape(len(features), -1)
    count = len(features)
    if count < 2:
        raise ValueError(f"`features` must hold at least 2 samples. Received: shape={features.shape}")
    first, second = np.triu_indices(count, k=1)
    if len(first) > max_pairs:
        choice = np.random.default_rng(seed).choice(len(first), max_pairs, replace=False)
        first, second = first[choice], second[choice]
    return float(np.linalg.norm(features[first] - features[second], axis=1).mean())
