"""Statistics of findings over seeds: paired t-intervals, a crossed bootstrap over seeds and test images, TOST
equivalence, Holm's correction, and the verdict rule every findings table states above itself.

A finding compares two arms run with the same seeds (a trained network and its own init, or two configs sharing
labels, batches and augmentations): its evidence is the per-seed paired difference d_s = a_s - b_s. The seed
interval is the t-interval of the d_s (ddof = 1); the bootstrap adds the test set's own noise by resampling seeds
and test images together (the same test images for every seed and both arms: a crossed design). A claim of no
effect needs an equivalence test: TOST against a margin stated with the claim.

Numpy and scipy only (no torch): the findings are regenerated from committed results on any machine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

from bm.errors import BMError

__all__ = [
    "ALPHA",
    "CLAIMS",
    "MARGIN",
    "VERDICT_RULE",
    "Finding",
    "Paired",
    "crossed_bootstrap",
    "holm",
    "paired_t",
    "tost",
    "judge",
]

ALPHA = 0.05
MARGIN = 0.02  # the equivalence margin of a claim about test accuracy: 2 points (stated with every absence claim)
CLAIMS = ("greater", "less", "absent")  # a > b, a < b, |a - b| < margin


@dataclass(frozen=True)
class Paired:
    """The paired t-statistics of differences d (n,): mean, its `level` t-interval, sd (ddof = 1), t and the
    two-sided p-value (n - 1 degrees of freedom)."""

    effect: float
    low: float
    high: float
    n: int
    sd: float
    t: float
    p: float


def _diffs(a: Sequence[float], b: Sequence[float] | None) -> np.ndarray:
    d = np.asarray(a, dtype=float) - (0.0 if b is None else np.asarray(b, dtype=float))
    if d.ndim != 1 or len(d) < 2 or not np.isfinite(d).all():
        raise BMError(f"a paired test needs at least 2 finite paired values; got {d.tolist()}")
    return d


def paired_t(a: Sequence[float], b: Sequence[float] | None = None, level: float = 0.95) -> Paired:
    """Paired t-test and interval of a - b (b None: of a itself against 0). With sd = 0 the interval is the point
    and p is 0 (a nonzero mean) or 1."""
    d = _diffs(a, b)
    n, mean, sd = len(d), float(d.mean()), float(d.std(ddof=1))
    se = sd / math.sqrt(n)
    half = float(_st.t.ppf((1 + level) / 2, n - 1)) * se
    if se == 0:
        return Paired(mean, mean, mean, n, 0.0, math.copysign(math.inf, mean) if mean else 0.0, 0.0 if mean else 1.0)
    t = mean / se
    return Paired(mean, mean - half, mean + half, n, sd, t, float(2 * _st.t.sf(abs(t), n - 1)))


def tost(a: Sequence[float], b: Sequence[float] | None, margin: float) -> float:
    """Two one-sided t-tests of equivalence for the paired a - b: the p-value of rejecting "|mean| >= margin"
    (the larger of the two one-sided p-values)."""
    if not margin > 0:
        raise BMError(f"an equivalence margin must be > 0; got {margin}")
    d = _diffs(a, b)
    n, mean = len(d), float(d.mean())
    se = float(d.std(ddof=1)) / math.sqrt(n)
    if se == 0:
        return 0.0 if abs(mean) < margin else 1.0
    lower = _st.t.sf((mean + margin) / se, n - 1)  # H0: mean <= -margin
    upper = _st.t.cdf((mean - margin) / se, n - 1)  # H0: mean >= +margin
    return float(max(lower, upper))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error over the table), in the input order."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out.tolist()


def crossed_bootstrap(
    a: np.ndarray, b: np.ndarray, draws: int = 4000, seed: int = 0, level: float = 0.95, chunk: int = 500
) -> tuple[float, float]:
    """Percentile interval of mean(a) - mean(b) for per-item outcomes a, b (seeds, items) paired by seed and item
    (say 1 where test image j is classified right under seed s): each draw resamples the seeds and, independently,
    the items, with replacement, the same for both arms. Seeds and test images both count as noise."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 2 or min(a.shape) < 1:
        raise BMError(f"a crossed bootstrap needs two (seeds, items) arrays of one shape; got {a.shape}, {b.shape}")
    d = a - b
    S, T = d.shape
    rng = np.random.default_rng(seed)
    means = []
    for start in range(0, draws, chunk):
        k = min(chunk, draws - start)
        ws = rng.multinomial(S, np.full(S, 1 / S), size=k).astype(float)  # (k, S) seed counts
        wt = rng.multinomial(T, np.full(T, 1 / T), size=k).astype(float)  # (k, T) item counts
        means.append(np.einsum("ks,st,kt->k", ws, d, wt) / (S * T))
    values = np.concatenate(means)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


VERDICT_RULE = (
    "Each row compares two arms over the same seeds: effect = mean of the per-seed paired differences, 95% CI = its "
    "t-interval (ddof = 1; the crossed bootstrap over seeds and test images beside it), p = the two-sided paired "
    "t-test, Holm-adjusted within the table (the TOST p-values Holm-adjusted as a second family). A claim of an "
    "effect (greater / less) is *shown* when its adjusted p < 0.05 with the claimed sign; *not shown* when the "
    "adjusted p < 0.05 with the other sign or when TOST shows the effect absent within the row's margin; otherwise "
    "*inconclusive*. A claim of absence is *shown absent within m* when the adjusted TOST p < 0.05 at margin m; "
    "*not shown* when the adjusted t-test p < 0.05; otherwise *inconclusive*."
)


@dataclass(frozen=True)
class Finding:
    """One row of a findings table: the claim (`kind` in CLAIMS, about a - b), its per-seed arms, the margin of its
    equivalence test and, optionally, per-item outcomes (seeds, items) of both arms for the crossed bootstrap."""

    name: str
    kind: str
    a: tuple[float, ...]
    b: tuple[float, ...]
    margin: float
    items: tuple[np.ndarray, np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.kind not in CLAIMS:
            raise BMError(f"a claim is one of {', '.join(CLAIMS)}; got {self.kind!r}")


def judge(findings: Sequence[Finding]) -> list[dict]:
    """The table's rows (VERDICT_RULE): effect, seed CI, bootstrap CI, n, p and TOST p (raw and Holm-adjusted),
    verdict."""
    tests = [paired_t(f.a, f.b) for f in findings]
    equivalence = [tost(f.a, f.b, f.margin) for f in findings]
    p_adj, tost_adj = holm([t.p for t in tests]), holm(equivalence)
    rows = []
    for f, t, q, pa, qa in zip(findings, tests, equivalence, p_adj, tost_adj):
        sign = {"greater": 1, "less": -1}.get(f.kind, 0)
        if f.kind == "absent":
            verdict = (
                f"shown absent within {f.margin:g}" if qa < ALPHA else "not shown" if pa < ALPHA else "inconclusive"
            )
        elif pa < ALPHA and math.copysign(1, t.effect) == sign:
            verdict = "shown"
        elif pa < ALPHA or qa < ALPHA:
            verdict = "not shown"
        else:
            verdict = "inconclusive"
        boot = crossed_bootstrap(*f.items) if f.items is not None else (math.nan, math.nan)
        rows.append(
            {
                "finding": f.name,
                "claim": f.kind,
                "effect": t.effect,
                "ci_low": t.low,
                "ci_high": t.high,
                "boot_low": boot[0],
                "boot_high": boot[1],
                "seeds": t.n,
                "p": t.p,
                "p_holm": pa,
                "margin": f.margin,
                "tost_p": q,
                "tost_p_holm": qa,
                "verdict": verdict,
            }
        )
    return rows
