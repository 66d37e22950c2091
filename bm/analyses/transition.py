"""How long the benign transition takes: first crossings read off a run's metrics.jsonl, and their power-law fit.

A crossing is the first measured epoch at which a quantity passes its level (memorization every train-accuracy
measurement, the K-NN at each probe, so the K-NN times are known to one probe interval); it is given in optimizer
steps. None: never crossed within the run's `steps` (a censored time: left out of the least-squares fit, kept as
"t > steps" by the censored fit: leaving them out biases the exponents down, the slowest runs being the ones dropped).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bm.deep.config import DeepTrainConfig

__all__ = [
    "FLOOR_EPOCHS",
    "FULL_SCALE",
    "BUDGET_CROSSING",
    "Extrapolation",
    "as_extrapolation",
    "extrapolate",
    "TRANSITION_COLUMNS",
    "TRANSITION_KEYS",
    "fit_censored",
    "fit_growth",
    "leave_one_width_out",
    "per_width",
    "predict",
    "transition_times",
]

FLOOR_EPOCHS = 5000  # our floor of a full-scale run: Sec. 4 saw nothing move for ~3000 epochs; 2000 more after it
FULL_SCALE: dict[str, float] = {
    "n": 50000,
    "width": 64,
    "batch": 256,
}  # the extrapolation's target: CIFAR-10 at Table 6's width, batch


@dataclass(frozen=True)
class Extrapolation:
    """A full-scale cost read off a measurement rather than a sentence: how many epochs the benign transition takes at
    CIFAR-10's n = 50,000 and width 64, extrapolated from the phase preset's mini runs (a power law in n and width,
    fitted with the runs that never crossed kept as censored, a 95% prediction interval, images seen carried over
    from batch 32 to 256); docs/benign-transition.md."""

    crossing: str  # which first crossing (TRANSITION_KEYS)
    epochs: tuple[float, float, float]  # central value and the 95% interval, images seen carried over to batch 256
    source: str
    epochs_steps: tuple[float, float, float] | None = None  # the same with optimizer steps carried over instead
    width_check: str | None = None  # why the width law is not trusted (a held-out width outside its interval); None: ok

    def budget(self, floor: int = FLOOR_EPOCHS) -> tuple[int, str]:
        """(the epochs every run of the scale trains, why). The measurement sets the budget only where it supports
        it: the upper end of the 95% interval rounded up to 1000 epochs, never below `floor` (it may raise the
        budget, not cut it below what the paper saw). Where the two conversions to epochs fall on different sides
        of the floor, or the width law failed its held-out check, the floor stays, with that reason."""
        measured = max(floor, 1000 * math.ceil(self.epochs[2] / 1000))
        if self.epochs_steps is not None and (self.epochs[2] <= floor) != (self.epochs_steps[2] <= floor):
            return floor, (
                f"the floor of {floor}: the conversions disagree (images seen: 95% up to "
                f"{self.epochs[2]:.0f} epochs; steps carried over: up to {self.epochs_steps[2]:.0f})"
            )
        if self.width_check is not None:
            return floor, f"the floor of {floor}: the width law is not trusted ({self.width_check})"
        return measured, f"the interval's upper end rounded up to 1000, at least {floor}"

    def budget_epochs(self, floor: int = FLOOR_EPOCHS) -> int:
        return self.budget(floor)[0]


BUDGET_CROSSING = "fit_1"  # memorized (accuracy 1): the crossing the full-scale budget rule reads (docs/choices.md)
TRANSITION_KEYS = ("fit_0.5", "fit_0.99", "fit_1", "knn_init+0.05", "knn_final-0.02")  # the crossings timed
TRANSITION_COLUMNS = (
    "fit_0.5",
    "fit_0.99",
    "fit_1",
    "knn_init+0.05",
    "knn_final-0.02",
    "knn_init",
    "knn_final",
    "fit",
    "probe_steps",
    "steps",
)


def _first(rows: list[dict], key: str, level: float) -> int | None:
    return next((r["epoch"] for r in rows if r[key] >= level), None)


def transition_times(history: list[dict], cfg: DeepTrainConfig, per_epoch: int) -> dict:
    """First optimizer step at which the fit (accuracy on the trained items against their training labels) reaches
    0.5, 0.99 and 1 (fit_1: memorized, Definition 4.1), and the K-NN (bank: the images trained on, Definition 4.1)
    its init value + 0.05 and its final value - 0.02; the final fit beside them."""
    acc = [r for r in history if "train_acc" in r]
    knn = [
        {"epoch": r["epoch"], "knn": r.get("knn_banks", {cfg.knn_bank: r["knn"]})["train"]}
        for r in history
        if "knn" in r
    ]
    init, last = knn[0]["knn"], knn[-1]["knn"]

    def steps(epoch: int | None) -> int | None:
        return None if epoch is None else epoch * per_epoch

    return {
        "fit_0.5": steps(_first(acc, "train_acc", 0.5)),
        "fit_0.99": steps(_first(acc, "train_acc", 0.99)),
        "fit_1": steps(_first(acc, "train_acc", 1.0)),
        "knn_init+0.05": steps(_first(knn[1:], "knn", init + 0.05)),
        "knn_final-0.02": steps(_first(knn[1:], "knn", last - 0.02)),
        "knn_init": init,
        "knn_final": last,
        "fit": acc[-1]["train_acc"],
        "probe_steps": (knn[1]["epoch"] - knn[0]["epoch"]) * per_epoch if len(knn) > 1 else None,
        "steps": cfg.epochs * per_epoch,
    }


def _row(n: float, width: float, many: bool) -> list[float]:
    """A row of the power law's design: 1, log n and, where the fit has several widths, log width."""
    return [1.0, math.log(n)] + ([math.log(width)] if many else [])


def _law(
    key: str,
    runs: int,
    coef: np.ndarray,
    cov: np.ndarray,
    at: dict[str, float],
    centre: float,
    half: float,
    batch_size: int,
    noise: float,
    **extra,
) -> dict:
    """A fitted law's record: its coefficients (log t = coef . (1, log n[, log width])) with their covariance and the
    residual sd `noise` in log t, the exponents with standard errors, and t at `at` (centre, 95% half-width in log t)
    in optimizer steps, images seen and epochs of `at` by both conversions: `epochs` carries the images seen over
    (t x batch_size / n), `epochs_steps` the optimizer steps (t x at["batch"] / n, the full scale's batch)."""
    many = len(coef) > 2
    steps = [math.exp(centre - half), math.exp(centre), math.exp(centre + half)]
    return {
        "key": key,
        "runs": runs,
        **extra,
        "exponent_n": float(coef[1]),
        "se_n": float(math.sqrt(cov[1, 1])),
        "exponent_width": float(coef[2]) if many else None,
        "se_width": float(math.sqrt(cov[2, 2])) if many else None,
        "coef": coef.tolist(),
        "cov": np.asarray(cov).tolist(),
        "noise_log": noise,
        "at": at,
        "steps": steps,
        "images": [s * batch_size for s in steps],
        "epochs": [s * batch_size / at["n"] for s in steps],
        "epochs_steps": [s * at.get("batch", batch_size) / at["n"] for s in steps],
    }


def predict(law: dict, n: float, width: float) -> tuple[float, float, float]:
    """A fitted law's 95% prediction interval of t (optimizer steps) at (n, width): (low, centre, high), the
    coefficients' variance plus the residual variance, normal in log t."""
    x = np.array(_row(n, width, law["exponent_width"] is not None))
    centre = float(x @ np.array(law["coef"]))
    half = 1.96 * math.sqrt(law["noise_log"] ** 2 + float(x @ np.array(law["cov"]) @ x))
    return math.exp(centre - half), math.exp(centre), math.exp(centre + half)


def per_width(times: list[dict], key: str, at: dict[str, float], batch_size: int) -> dict[int, dict | None]:
    """The censored fit of t ~ n^b at each width alone (its exponent b with its standard error)."""
    return {
        w: fit_censored([t for t in times if t["width"] == w], key, {**at, "width": w}, batch_size)
        for w in sorted({t["width"] for t in times})
    }


def leave_one_width_out(times: list[dict], key: str, at: dict[str, float], batch_size: int) -> list[dict]:
    """For each width: the censored width-and-n law fitted on the other widths, its 95% prediction interval at each
    n of the held-out width, and whether the held-out runs' geometric-mean crossing falls inside (runs that crossed;
    a width needs two others to fit on)."""
    out = []
    widths = sorted({t["width"] for t in times})
    for held in widths:
        law = fit_censored([t for t in times if t["width"] != held], key, at, batch_size)
        if law is None or law["exponent_width"] is None:
            continue
        for n in sorted({t["n"] for t in times if t["width"] == held}):
            seen = [t[key] for t in times if t["width"] == held and t["n"] == n and t[key]]
            if not seen:
                continue
            low, centre, high = predict(law, n, held)
            observed = math.exp(float(np.mean(np.log(seen))))
            out.append(
                {
                    "width": held,
                    "n": n,
                    "observed": observed,
                    "runs": len(seen),
                    "predicted": centre,
                    "low": low,
                    "high": high,
                    "inside": low <= observed <= high,
                }
            )
    return out


def fit_growth(times: list[dict], key: str, at: dict[str, float], batch_size: int) -> dict | None:
    """Least-squares fit log t = a + b log n + c log width over the runs that crossed (`key` of transition_times),
    with the standard errors of b and c, and t extrapolated to `at` (n, width) with a 95% prediction interval
    (Student t on the residual variance). t in optimizer steps; also in images seen (t x batch) and epochs of `at`.
    None when fewer runs crossed than the fit has parameters plus one."""
    from scipy import stats

    points = [(t["n"], t["width"], t[key]) for t in times if t[key]]
    many = len({w for _, w, _ in points}) > 1
    if len(points) <= 2 + many:
        return None
    X, y = np.array([_row(n, w, many) for n, w, _ in points]), np.log([t for _, _, t in points])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    dof = len(y) - X.shape[1]
    resid = y - X @ coef
    s2 = float(resid @ resid) / dof
    inverse = np.linalg.inv(X.T @ X)
    x0 = np.array(_row(at["n"], at["width"], many))
    half = float(stats.t.ppf(0.975, dof) * math.sqrt(s2 * (1 + x0 @ inverse @ x0)))
    return _law(
        key,
        len(points),
        coef,
        s2 * inverse,
        at,
        float(x0 @ coef),
        half,
        batch_size,
        math.sqrt(s2),
        residual_sd_log=math.sqrt(s2),
    )


def _hessian(f, theta: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central finite-difference Hessian of f at theta."""
    e = np.eye(len(theta)) * h
    return np.array(
        [
            [(f(theta + a + b) - f(theta + a - b) - f(theta - a + b) + f(theta - a - b)) / (4 * h * h) for b in e]
            for a in e
        ]
    )


def fit_censored(times: list[dict], key: str, at: dict[str, float], batch_size: int) -> dict | None:
    """The same power law as fit_growth by maximum likelihood with log-normal errors, the runs that never crossed
    kept as censored at their `steps` (Tobit: P(log t > log steps)); standard errors from the observed information
    (a finite-difference Hessian) and an asymptotic 95% prediction interval (normal, the coefficients' variance
    plus sigma^2). Without censored runs its coefficients are fit_growth's. None: fewer crossings than parameters
    (sigma included) plus one, or an observed information that is not positive definite (no interval)."""
    from scipy import optimize, stats

    crossed = [(t["n"], t["width"], math.log(t[key]), True) for t in times if t[key]]
    censored = [(t["n"], t["width"], math.log(t["steps"]), False) for t in times if not t[key] and t.get("steps")]
    points = crossed + censored
    many = len({w for _, w, _, _ in points}) > 1
    if len(crossed) <= 3 + many:
        return None
    X = np.array([_row(n, w, many) for n, w, _, _ in points])
    y, seen = np.array([v for _, _, v, _ in points]), np.array([o for *_, o in points])

    def nll(theta: np.ndarray) -> float:
        beta, sigma = theta[:-1], math.exp(theta[-1])
        z = (y - X @ beta) / sigma
        return -float(np.sum(stats.norm.logpdf(z[seen]) - math.log(sigma)) + np.sum(stats.norm.logsf(z[~seen])))

    start, *_ = np.linalg.lstsq(X[seen], y[seen], rcond=None)
    spread = max(float(np.std(y[seen] - X[seen] @ start)), 1e-3)
    theta = optimize.minimize(
        nll,
        np.append(start, math.log(spread)),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 40000, "maxfev": 40000},
    ).x
    information = _hessian(nll, theta)
    if not np.all(np.isfinite(information)) or np.any(np.linalg.eigvalsh(information) <= 0):
        return None
    cov = np.linalg.inv(information)[:-1, :-1]
    beta, sigma = theta[:-1], math.exp(theta[-1])
    x0 = np.array(_row(at["n"], at["width"], many))
    half = 1.96 * math.sqrt(sigma**2 + float(x0 @ cov @ x0))
    return _law(
        key,
        len(crossed),
        beta,
        cov,
        at,
        float(x0 @ beta),
        half,
        batch_size,
        sigma,
        censored=len(censored),
        sigma_log=sigma,
    )


def extrapolate(
    times: list[dict], key: str, batch_size: int, source: str, at: dict[str, float] = FULL_SCALE
) -> Extrapolation | None:
    """The censored law of `key` over `times` (every width together) at `at` as an Extrapolation (as_extrapolation
    of fit_censored and leave_one_width_out). None: no law."""
    law = fit_censored(times, key, at, batch_size)
    return None if law is None else as_extrapolation(law, leave_one_width_out(times, key, at, batch_size), source)


def as_extrapolation(law: dict, held: list[dict], source: str) -> Extrapolation:
    """A censored law (fit_censored) and its held-out widths (leave_one_width_out) as an Extrapolation: both
    conversions to epochs, and a width check naming each held-out width and n whose crossing falls outside the 95%
    interval the other widths predict ("no width could be held out" where none could be)."""
    misses = [
        f"width {c['width']} at n = {c['n']}: {c['observed']:.0f} steps, predicted {c['low']:.0f} .. {c['high']:.0f}"
        for c in held
        if not c["inside"]
    ]
    check = "; ".join(misses) if misses else None if held else "no width could be held out"
    low, centre, high = law["epochs"]
    low_s, centre_s, high_s = law["epochs_steps"]
    return Extrapolation(law["key"], (centre, low, high), source, (centre_s, low_s, high_s), check)
