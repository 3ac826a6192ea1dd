"""devices.strategy(): TPU (Colab's TPU VM runtime included), several GPUs, or the default.
No accelerator is needed: TensorFlow's TPU and device calls are replaced by fakes."""

import pytest
import tensorflow as tf

from tlhelpers.transfer import devices

TPU_VARS = ("TPU_NAME", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS", "COLAB_TPU_ADDR", "TPU_ACCELERATOR_TYPE")


@pytest.fixture
def fake_tf(monkeypatch):
    """Record the TPU resolver's argument; pretend to have ``devices`` physical devices."""
    for var in TPU_VARS:
        monkeypatch.delenv(var, raising=False)
    seen, found = {}, {"TPU": [], "GPU": []}

    class Resolver:
        def __init__(self, tpu=None):
            seen["tpu"] = tpu

    monkeypatch.setattr(tf.distribute.cluster_resolver, "TPUClusterResolver", Resolver)
    monkeypatch.setattr(tf.config, "experimental_connect_to_cluster", lambda r: None)
    monkeypatch.setattr(tf.tpu.experimental, "initialize_tpu_system", lambda r: None)
    monkeypatch.setattr(tf.distribute, "TPUStrategy", lambda r: ("TPUStrategy", r))
    monkeypatch.setattr(tf.distribute, "MirroredStrategy", lambda: "MirroredStrategy")
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: found.get(kind, []))
    return seen, found


def test_plain_machine_gets_the_default_strategy(fake_tf):
    seen, _ = fake_tf
    assert devices.strategy() is tf.distribute.get_strategy()
    assert "tpu" not in seen  # no resolver is even created


def test_colab_tpu_vm_connects_to_the_local_tpu(fake_tf):
    seen, found = fake_tf
    found["TPU"] = ["TPU:0"] * 8
    kind, _ = devices.strategy()
    assert kind == "TPUStrategy" and seen["tpu"] == "local"


def test_legacy_colab_tpu_node(fake_tf, monkeypatch):
    seen, _ = fake_tf
    monkeypatch.setenv("COLAB_TPU_ADDR", "10.0.0.2:8470")
    assert devices.strategy()[0] == "TPUStrategy" and seen["tpu"] == "grpc://10.0.0.2:8470"


def test_named_cloud_tpu(fake_tf, monkeypatch):
    seen, _ = fake_tf
    monkeypatch.setenv("TPU_NAME", "my-tpu")
    assert devices.strategy()[0] == "TPUStrategy" and seen["tpu"] is None


def test_several_gpus_get_a_mirrored_strategy(fake_tf):
    _, found = fake_tf
    found["GPU"] = ["GPU:0", "GPU:1"]
    assert devices.strategy() == "MirroredStrategy"


def test_failed_tpu_falls_back_with_a_notice(fake_tf, monkeypatch, capsys):
    _, found = fake_tf
    found["TPU"] = ["TPU:0"]

    def fail(resolver):
        raise tf.errors.NotFoundError(None, None, "no TPU devices")

    monkeypatch.setattr(tf.tpu.experimental, "initialize_tpu_system", fail)
    assert devices.strategy() is tf.distribute.get_strategy()
    assert "could not be initialised" in capsys.readouterr().out
