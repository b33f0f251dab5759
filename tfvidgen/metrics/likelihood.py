"""Likelihood baselines in bits per dimension."""

import math

import numpy as np


class PixelBernoulliBaseline:
    """Independent Bernoulli per pixel position, fitted to training clips.

    The baseline a VAE must beat: `p[t, y, x, c]` is the mean training value
    at that position (clipped to [1e-4, 1 - 1e-4]); its negative
    log-likelihood of a clip is the binary cross-entropy against `p`.

    Example:

    >>> baseline = PixelBernoulliBaseline().fit(train_clips)
    >>> baseline.bits_per_dim(test_clips)
    """

    def __init__(self, epsilon=1e-4):
        self.epsilon = epsilon
        self.total = None
        self.count = 0

    def fit(self, clips):
        """Accumulates clips (an array, or an iterable of batches)."""
        batches = [clips] if isinstance(clips, np.ndarray) else clips
        for batch in batches:
            batch = np.asarray(batch, np.float64)
            self.total = batch.sum(axis=0) if self.total is None else self.total + batch.sum(axis=0)
            self.count += len(batch)
        return self

    @property
    def probabilities(self):
        return np.clip(self.total / self.count, self.epsilon, 1.0 - self.epsilon)

    def nats_per_clip(self, clips):
        clips = np.asarray(clips, np.float64)
        p = self.probabilities
        nll = -(clips * np.log(p) + (1.0 - clips) * np.log(1.0 - p))
        return nll.reshape(len(clips), -1).sum(axis=1)

    def bits_per_dim(self, clips):
        clips = np.asarray(clips)
        return float(self.nats_per_clip(clips).mean() / (np.prod(clips.shape[1:]) * math.log(2.0)))
