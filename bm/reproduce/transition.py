"""How long the benign transition takes: first crossings read off a run's metrics.jsonl, and their power-law fit.

A crossing is the first measured epoch at which a quantity passes its level (memorization every train-accuracy
measurement, the K-NN at each probe, so the K-NN times are known to one probe interval); it is given in optimizer
steps. None: never crossed within the run's `steps` (a censored time: left out of the least-squares fit, kept as
"t > steps" by the censored fit: leaving them out biases the exponents down, the slowest runs being the ones dropped).
"""

from __future__ import annotations

import math

import numpy as np

from bm.deep.config import DeepTrainConfig

__all__ = ["TRANSITION_COLUMNS", "TRANSITION_KEYS", "fit_censored", "fit_growth", "transition_times"]

TRANSITION_KEYS = ("memorized_0.5", "memorized_0.99", "knn_init+0.05", "knn_final-0.02")  # the crossings timed
TRANSITION_COLUMNS = ("memorized_0.5", "memorized_0.99", "knn_init+0.05", "knn_final-0.02", "knn_init", "knn_final",
                      "memorized", "probe_steps", "steps")


def _first(rows: list[dict], key: str, level: float) -> int | None:
    return next((r["epoch"] for r in rows if r[key] >= level), None)


def transition_times(history: list[dict], cfg: DeepTrainConfig, per_epoch: int) -> dict:
    """First optimizer step at which memorization (accuracy on the trained items) passes 0.5 and 0.99, and the K-NN
    (bank: the images trained on, Definition 4.1) passes its init value + 0.05 and its final value - 0.02."""
    acc = [r for r in history if "train_acc" in r]
    knn = [{"epoch": r["epoch"], "knn": r.get("knn_banks", {cfg.knn_bank: r["knn"]})["train"]}
           for r in history if "knn" in r]
    init, last = knn[0]["knn"], knn[-1]["knn"]

    def steps(epoch: int | None) -> int | None:
        return None if epoch is None else epoch * per_epoch

    return {"memorized_0.5": steps(_first(acc, "train_acc", 0.5)), "memorized_0.99": steps(_first(acc, "train_acc", 0.99)),
            "knn_init+0.05": steps(_first(knn[1:], "knn", init + 0.05)),
            "knn_final-0.02": steps(_first(knn[1:], "knn", last - 0.02)), "knn_init": init, "knn_final": last,
            "memorized": acc[-1]["train_acc"], "probe_steps": (knn[1]["epoch"] - knn[0]["epoch"]) * per_epoch
            if len(knn) > 1 else None, "steps": cfg.epochs * per_epoch}


def fit_growth(times: list[dict], key: str, at: dict[str, float], batch_size: int) -> dict | None:
    """Least-squares fit log t = a + b log n + c log width over the runs that crossed (`key` of transition_times),
    with the standard errors of b and c, and t extrapolated to `at` (n, width) with a 95% prediction interval
    (Student t on the residual variance). t in optimizer steps; also in images seen (t x batch) and epochs of `at`.
    None when fewer runs crossed than the fit has parameters plus one."""
    from scipy import stats

    points = [(t["n"], t["width"], t[key]) for t in times if t[key]]
    widths = {w for _, w, _ in points}
    if len(points) <= 2 + (len(widths) > 1):
        return None
    design = [[1.0, math.log(n)] + ([math.log(w)] if len(widths) > 1 else []) for n, w, _ in points]
    X, y = np.array(design), np.log([t for _, _, t in points])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    dof = len(y) - X.shape[1]
    resid = y - X @ coef
    s2 = float(resid @ resid) / dof
    inverse = np.linalg.inv(X.T @ X)
    cov = s2 * inverse
    x0 = np.array([1.0, math.log(at["n"])] + ([math.log(at["width"])] if len(widths) > 1 else []))
    centre = float(x0 @ coef)
    half = float(stats.t.ppf(0.975, dof) * math.sqrt(s2 * (1 + x0 @ inverse @ x0)))
    steps = [math.exp(centre - half), math.exp(centre), math.exp(centre + half)]
    return {"key": key, "runs": len(points), "exponent_n": float(coef[1]), "se_n": float(math.sqrt(cov[1, 1])),
            "exponent_width": float(coef[2]) if len(widths) > 1 else None,
            "se_width": float(math.sqrt(cov[2, 2])) if len(widths) > 1 else None, "residual_sd_log": math.sqrt(s2),
            "at": at, "steps": steps, "images": [s * batch_size for s in steps],
            "epochs": [s * batch_size / at["n"] for s in steps]}


def fit_censored(times: list[dict], key: str, at: dict[str, float], batch_size: int) -> dict | None:
    """The same power law as fit_growth by maximum likelihood with log-normal errors, the runs that never crossed
    kept as censored at their `steps` (Tobit: P(log t > log steps)); standard errors from the observed information
    (a finite-difference Hessian) and an asymptotic 95% prediction interval (normal, the coefficients' variance
    plus sigma^2). Without censored runs its coefficients are fit_growth's. None: fewer crossings than parameters
    plus one."""
    from scipy import optimize, stats

    crossed = [(t["n"], t["width"], math.log(t[key]), True) for t in times if t[key]]
    censored = [(t["n"], t["width"], math.log(t["steps"]), False) for t in times if not t[key] and t.get("steps")]
    points = crossed + censored
    many = len({w for _, w, _, _ in points}) > 1
    if len(crossed) <= 2 + many:
        return None
    X = np.array([[1.0, math.log(n)] + ([math.log(w)] if many else []) for n, w, _, _ in points])
    y, seen = np.array([v for _, _, v, _ in points]), np.array([o for *_, o in points])

    def nll(theta: np.ndarray) -> float:
        beta, sigma = theta[:-1], math.exp(theta[-1])
        z = (y - X @ beta) / sigma
        return -float(np.sum(stats.norm.logpdf(z[seen]) - math.log(sigma)) + np.sum(stats.norm.logsf(z[~seen])))

    start, *_ = np.linalg.lstsq(X[seen], y[seen], rcond=None)
    spread = max(float(np.std(y[seen] - X[seen] @ start)), 1e-3)
    theta = optimize.minimize(nll, np.append(start, math.log(spread)), method="Nelder-Mead",
                              options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 40000, "maxfev": 40000}).x
    h, k = 1e-4, len(theta)
    hessian = np.array([[(nll(theta + h * (np.eye(k)[i] + np.eye(k)[j])) - nll(theta + h * (np.eye(k)[i] - np.eye(k)[j]))
                          - nll(theta - h * (np.eye(k)[i] - np.eye(k)[j])) + nll(theta - h * (np.eye(k)[i] + np.eye(k)[j])))
                         / (4 * h * h) for j in range(k)] for i in range(k)])
    cov = np.linalg.inv(hessian)[:-1, :-1]
    beta, sigma = theta[:-1], math.exp(theta[-1])
    x0 = np.array([1.0, math.log(at["n"])] + ([math.log(at["width"])] if many else []))
    centre, half = float(x0 @ beta), 1.96 * math.sqrt(sigma**2 + float(x0 @ cov @ x0))
    steps = [math.exp(centre - half), math.exp(centre), math.exp(centre + half)]
    return {"key": key, "runs": len(crossed), "censored": len(censored), "exponent_n": float(beta[1]),
            "se_n": float(math.sqrt(cov[1, 1])), "exponent_width": float(beta[2]) if many else None,
            "se_width": float(math.sqrt(cov[2, 2])) if many else None, "sigma_log": sigma, "at": at, "steps": steps,
            "images": [s * batch_size for s in steps], "epochs": [s * batch_size / at["n"] for s in steps]}
