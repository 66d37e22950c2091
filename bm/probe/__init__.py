"""Probes shared by the toy and deep models: K-NN (the paper's K = 20) and linear."""

from bm.probe.knn import WEIGHTINGS, KNNPrediction, knn_accuracy, knn_predict, knn_scores
from bm.probe.linear import linear_probe_accuracy
from bm.probe.sketch import gaussian_sketch

__all__ = [
    "WEIGHTINGS",
    "KNNPrediction",
    "knn_accuracy",
    "knn_predict",
    "knn_scores",
    "gaussian_sketch",
    "linear_probe_accuracy",
]
