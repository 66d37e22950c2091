import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from bm.errors import BMError
from bm.probe import linear_probe_accuracy


def test_within_one_point_of_scikit_learn_on_digits():
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    tr, te = order[:1200], order[1200:]
    l2 = 1e-3
    scaler = StandardScaler().fit(X[tr])
    ref = LogisticRegression(C=1 / (l2 * len(tr)), max_iter=5000).fit(scaler.transform(X[tr]), y[tr])
    ref_acc = ref.score(scaler.transform(X[te]), y[te])
    ours = linear_probe_accuracy(torch.tensor(X[tr]), y[tr], X[te], y[te], l2=l2)
    assert ref_acc > 0.9
    assert abs(ours - ref_acc) <= 0.01


def test_errors():
    with pytest.raises(BMError):
        linear_probe_accuracy(np.zeros((4, 2)), [0, 1, 0, 1], np.zeros((2, 2)), [0, 1], l2=-1)
