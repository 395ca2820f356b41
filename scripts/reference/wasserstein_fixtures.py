#!/usr/bin/env python3
"""Fixed point sets and their exact W2/W1, for tests/it/metrics.rs (`w2`/`w1` against an
independent exact solver, to 1e-6 relative).

Run once from the repository root: python3 scripts/reference/wasserstein_fixtures.py
It writes, for each set NAME, under tests/data/:
  wasserstein_NAME_x.npy, wasserstein_NAME_y.npy   the points, float32 [n, dim] (what runner's
                                                   metrics take; the costs below are computed
                                                   from these float32 values in float64)
  wasserstein_NAME_values.npy                      float64 [1, 2]: W2, W1
The numbers are committed; this script documents where they came from. The solver is SciPy's
linear_sum_assignment (Crouse's shortest augmenting path), not runner's: W2 = sqrt(mean cost)
of the optimal assignment for the cost |x - y|^2, W1 = mean cost of the optimal assignment
for |x - y|. In 1-D the script also checks SciPy against sorting, the closed-form optimum.
"""

import os

import numpy as np
from scipy.optimize import linear_sum_assignment

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data")


def eight_gaussians(rng, n):
    centres = 4.0 * np.array([[np.cos(a), np.sin(a)] for a in np.arange(8) * np.pi / 4])
    return centres[rng.integers(0, 8, n)] + 0.5 * rng.standard_normal((n, 2))


def moons(rng, n):
    t = rng.uniform(0, np.pi, n)
    upper = rng.integers(0, 2, n).astype(bool)
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    return np.stack([x, y], axis=1) + 0.1 * rng.standard_normal((n, 2))


def exact(x, y):
    """W2 and W1 between equal-size float32 sets, by exact assignment in float64."""
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    d2 = ((x64[:, None, :] - y64[None, :, :]) ** 2).sum(axis=-1)
    values = []
    for cost in (d2, np.sqrt(d2)):
        rows, cols = linear_sum_assignment(cost)
        values.append(cost[rows, cols].mean())
    return np.sqrt(values[0]), values[1]


def sets():
    rng = np.random.default_rng(20261129)
    # 1-D: a standard normal against a skewed, shifted set (the optimal pairing is not the
    # identity); 1,000 points per side.
    yield "1d", rng.standard_normal((1000, 1)), rng.standard_normal((1000, 1)) ** 2 - 0.5
    # 2-D: 8gaussians-like against moons-like, 500 per side.
    yield "2d", eight_gaussians(rng, 500), moons(rng, 500)
    # 2-D at 2,000 per side: large enough that runner starts its solver with the auction.
    yield "2d_large", rng.standard_normal((2000, 2)), moons(rng, 2000)
    # 5-D: a standard normal against a shifted, anisotropic normal, 300 per side.
    scale = np.array([0.5, 1.0, 1.5, 2.0, 0.25])
    yield "5d", rng.standard_normal((300, 5)), 0.75 + scale * rng.standard_normal((300, 5))
    # Ties: small integer grids with many duplicate points, so many optimal assignments and
    # many equal costs; 400 per side.
    yield "ties", rng.integers(0, 5, (400, 2)).astype(float), rng.integers(0, 4, (400, 2)) * 1.5
    # Ties at the auction's scale: 1,200 per side on a 6×6 grid.
    yield "ties_large", rng.integers(0, 6, (1200, 2)).astype(float), rng.integers(1, 7, (1200, 2)).astype(float)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, x, y in sets():
        x, y = x.astype(np.float32), y.astype(np.float32)
        w2, w1 = exact(x, y)
        if x.shape[1] == 1:
            xs, ys = np.sort(x[:, 0].astype(np.float64)), np.sort(y[:, 0].astype(np.float64))
            assert abs(np.sqrt(((xs - ys) ** 2).mean()) - w2) <= 1e-12 * w2, name
            assert abs(np.abs(xs - ys).mean() - w1) <= 1e-12 * w1, name
        base = os.path.join(OUT, f"wasserstein_{name}")
        np.save(base + "_x.npy", x)
        np.save(base + "_y.npy", y)
        np.save(base + "_values.npy", np.array([[w2, w1]], dtype=np.float64))
        print(f"{name:>10}: {x.shape[0]} x {x.shape[1]}-D, W2 {w2:.12g}, W1 {w1:.12g}")


if __name__ == "__main__":
    main()
