"""Registries: a new augmentation protocol or probe is one decorated function, and every entry point sees it."""

import pytest

from bm.analyses.probing import PROBES, probe_layers, register_probe
from bm.deep.protocols import PROTOCOLS, register_protocol
from bm.errors import BMError


def test_a_registered_protocol_trains_and_a_registered_probe_runs(tmp_path):
    """The README's example, on written CIFAR-10 files."""
    from bm.deep.config import DeepTrainConfig, ModelConfig
    from bm.deep.train import train
    from bm.runs import RunFolder
    from tests.conftest import write_cifar10

    write_cifar10(tmp_path / "data", per_batch=4)
    seen = []

    from tests.plugins.functions import centroid
    from tests.plugins.functions import hflip as flip

    @register_protocol("hflip")
    def hflip(images, generator, targets, options):
        seen.append(images.shape[0])
        return flip(images, generator, targets, options)

    register_probe("centroid")(centroid)

    try:
        cfg = DeepTrainConfig(
            data_dir=str(tmp_path / "data"),
            augment="hflip",
            epochs=1,
            batch_size=8,
            model=ModelConfig(width=4, projector_width=16),
            probe_k=3,
            decomposition_samples=4,
        )
        train(cfg, tmp_path / "run")
        assert sum(seen) == 20 and RunFolder(tmp_path / "run").finished_epochs() == 1
        record = probe_layers(tmp_path / "run", ["embedding"], ("clean", "centroid"), k=3)
        row = record["results"]["trained"]["embedding"]
        assert set(row) == {"knn_clean_test", "centroid_clean_test"} and 0 <= row["centroid_clean_test"] <= 1
        with pytest.raises(BMError, match="already registered"):
            register_protocol("hflip")(hflip)
    finally:
        PROTOCOLS.pop("hflip", None)
        PROBES.pop("centroid", None)
    with pytest.raises(BMError, match="augment must be one of"):
        DeepTrainConfig(augment="hflip")


def test_a_fixed_set_protocol_without_its_run_name_parts_is_refused():
    with pytest.raises(BMError, match="needs parts"):
        register_protocol("rolls", options=("views",), items=lambda cfg, n: n * cfg.views)(lambda *a: None)
    assert "rolls" not in PROTOCOLS
