import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.neighbors import KNeighborsClassifier

from bm.errors import BMError, ShapeError
from bm.probe import knn_accuracy, knn_predict


def _data(seed, n_train=300, n_test=120, dim=8, classes=5):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((n_train, dim)),
        rng.integers(0, classes, n_train),
        rng.standard_normal((n_test, dim)),
        rng.integers(0, classes, n_test),
    )


@given(st.integers(0, 2**31), st.sampled_from([1, 5, 20]), st.sampled_from(["uniform", "distance"]))
def test_matches_scikit_learn_brute(seed, k, weighting):
    Xtr, ytr, Xte, yte = _data(seed)
    ref = KNeighborsClassifier(n_neighbors=k, algorithm="brute", weights=weighting).fit(Xtr, ytr).predict(Xte)
    got = knn_predict(Xtr, ytr, Xte, yte, k=k, weighting=weighting, normalize=False)
    np.testing.assert_array_equal(got.labels, ref)
    assert got.accuracy == pytest.approx((ref == yte).mean())


def test_normalized_matches_scikit_learn_on_normalized_features():
    Xtr, ytr, Xte, yte = _data(1)
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    ref = KNeighborsClassifier(n_neighbors=20, algorithm="brute").fit(unit(Xtr), ytr).predict(unit(Xte))
    np.testing.assert_array_equal(knn_predict(Xtr, ytr, Xte).labels, ref)


def test_chunking_does_not_change_predictions(monkeypatch):
    Xtr, ytr, Xte, _ = _data(2)
    whole = knn_predict(Xtr, ytr, Xte).labels
    monkeypatch.setattr("bm.probe.knn._BLOCK_ELEMENTS", 7 * 300)  # chunks of 7 test rows
    np.testing.assert_array_equal(knn_predict(Xtr, ytr, Xte).labels, whole)


def test_distance_ties_go_to_the_lower_index_and_vote_ties_to_the_lower_label():
    # four train points at the same distance from the query; k = 2 takes indices 0 and 1
    train = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    query = np.zeros((1, 2))
    assert knn_predict(train, [3, 2, 0, 0], query, k=2, normalize=False).labels[0] == 2  # vote tie 3 vs 2
    assert knn_predict(train, [3, 3, 0, 0], query, k=2, normalize=False).labels[0] == 3
    assert knn_predict(train, [0, 1, 1, 1], query, k=1, normalize=False).labels[0] == 0


def test_temperature_weighting_follows_dino():
    Xtr, ytr, Xte, _ = _data(3, classes=3)
    got = knn_predict(torch.tensor(Xtr), torch.tensor(ytr), torch.tensor(Xte), k=10, weighting="temperature").labels
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    sims = unit(Xte) @ unit(Xtr).T
    idx = np.argsort(-sims, axis=1, kind="stable")[:, :10]
    votes = np.zeros((len(Xte), 3))
    for row in range(len(Xte)):
        np.add.at(votes[row], ytr[idx[row]], np.exp(sims[row, idx[row]] / 0.07))
    np.testing.assert_array_equal(got.numpy(), votes.argmax(1))


def test_torch_input_gives_tensor_and_accuracy_in_range():
    Xtr, ytr, Xte, yte = _data(4)
    got = knn_predict(torch.tensor(Xtr, dtype=torch.float32), torch.tensor(ytr), torch.tensor(Xte), yte)
    assert isinstance(got.labels, torch.Tensor) and got.labels.shape == (len(Xte),)
    assert 0.0 <= knn_accuracy(Xtr, ytr, Xte, yte) <= 1.0


def test_separable_clusters_are_recovered():
    rng = np.random.default_rng(5)
    centres = 10 * rng.standard_normal((4, 6))
    y = rng.integers(0, 4, 500)
    X = centres[y] + rng.standard_normal((500, 6))
    assert knn_accuracy(X[:400], y[:400], X[400:], y[400:]) == 1.0


def test_errors():
    Xtr, ytr, Xte, _ = _data(6, n_train=10)
    with pytest.raises(BMError, match="k must lie in"):
        knn_predict(Xtr, ytr, Xte, k=11)
    with pytest.raises(BMError, match="weighting"):
        knn_predict(Xtr, ytr, Xte, weighting="gaussian")
    with pytest.raises(ShapeError, match="dims"):
        knn_predict(Xtr, ytr, Xte[:, :3], k=3)
    with pytest.raises(ShapeError, match="labels"):
        knn_predict(Xtr, ytr[:5], Xte, k=3)


def test_leave_one_out_matches_scikit_learn_without_the_point():
    Xtr, ytr, _, _ = _data(7, n_train=60)
    got = knn_predict(Xtr, ytr, Xtr, ytr, k=5, normalize=False, exclude_self=True)
    for i in (0, 17, 59):
        keep = np.arange(60) != i
        ref = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(Xtr[keep], ytr[keep]).predict(Xtr[i : i + 1])
        assert got.labels[i] == ref[0]
    with pytest.raises(ShapeError, match="exclude_self"):
        knn_predict(Xtr, ytr, Xtr[:5], k=5, exclude_self=True)


@pytest.mark.slow
@given(st.integers(0, 2**31), st.sampled_from(["uniform", "distance", "temperature"]))
def test_several_k_in_one_pass_equal_separate_passes(seed, weighting):
    from bm.probe import knn_scores

    Xtr, ytr, Xte, yte = _data(seed)
    Xtr = np.round(Xtr, 1)  # ties in distance: the prefix of the max(k) neighbours must break them the same way
    scores = knn_scores(Xtr, ytr, Xte, yte, ks=(1, 10, 20, 200), tops=(1, 5), weighting=weighting)
    for k in (1, 10, 20, 200):
        assert scores[f"k{k}_top1"] == knn_accuracy(Xtr, ytr, Xte, yte, k=k, weighting=weighting)
        assert scores[f"k{k}_top5"] >= scores[f"k{k}_top1"]


def test_top5_matches_a_direct_count():
    from bm.probe import knn_scores

    Xtr, ytr, Xte, yte = _data(3, classes=10)
    ref = KNeighborsClassifier(n_neighbors=20, algorithm="brute").fit(Xtr, ytr)
    proba = ref.predict_proba(Xte)  # vote shares per class (classes 0..9 all present)
    ranked = np.argsort(-proba, axis=1, kind="stable")[:, :5]
    expected = np.mean([y in row for y, row in zip(yte, ranked)])
    assert knn_scores(Xtr, ytr, Xte, yte, ks=(20,), tops=(5,), normalize=False)["k20_top5"] == pytest.approx(expected)
