"""How long the benign transition takes: first crossings read off a run's metrics.jsonl, and their power-law fit.

A crossing is the first measured epoch at which a quantity passes its level (memorization every train-accuracy
measurement, the K-NN at each probe, so the K-NN times are known to one probe interval); it is given in optimizer
steps. None: never crossed within the run (a censored time, left out of the fit).
"""

from __future__ import annotations

import math

import numpy as np

from bm.deep.config import DeepTrainConfig

__all__ = ["TRANSITION_COLUMNS", "TRANSITION_KEYS", "fit_growth", "transition_times"]

TRANSITION_KEYS = ("memorized_0.5", "memorized_0.99", "knn_init+0.05", "knn_final-0.02")  # the crossings timed
TRANSITION_COLUMNS = ("memorized_0.5", "memorized_0.99", "knn_init+0.05", "knn_final-0.02", "knn_init", "knn_final",
                      "memorized", "probe_steps")


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
            if len(knn) > 1 else None}


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
