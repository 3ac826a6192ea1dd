"""Which devices to train on: a TPU (Colab's TPU runtime, Cloud TPU VMs), several GPUs, or one.

>>> from tlhelpers.transfer.devices import strategy
>>> strategy().num_replicas_in_sync >= 1
True
"""

from __future__ import annotations

import tensorflow as tf

from tlhelpers.settings import config


def _tpu_address() -> str | None:
    """Which TPU to connect to: ``"local"`` on a TPU VM (Colab's TPU runtime, Cloud TPU VMs),
    ``TPU_NAME``'s TPU, the legacy Colab TPU node, or None when there is no TPU."""
    tpu = config.settings().tpu
    if "TPU_NAME" in tpu or "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS" in tpu:
        return ""  # TPUClusterResolver finds it from these variables
    if "COLAB_TPU_ADDR" in tpu:  # Colab's old "TPU (deprecated)" runtime
        return "grpc://" + tpu["COLAB_TPU_ADDR"]
    if "TPU_ACCELERATOR_TYPE" in tpu or tf.config.list_physical_devices("TPU"):
        return "local"  # a TPU attached to this machine; TPUClusterResolver() alone misses it
    return None


def strategy() -> tf.distribute.Strategy:
    """The distribution strategy for this machine: TPU, several GPUs, or the default.

    Build and compile models inside ``with strategy().scope():`` to use them all.
    """
    address = _tpu_address()
    if address is not None:
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=address or None)
            tf.config.experimental_connect_to_cluster(resolver)  # a no-op for "local"
            tf.tpu.experimental.initialize_tpu_system(resolver)
            return tf.distribute.TPUStrategy(resolver)
        except (ValueError, RuntimeError, tf.errors.NotFoundError) as err:
            print(f"Notice: a TPU was announced ({address or 'TPU_NAME'}) but could not be "
                  f"initialised ({err}); using the GPUs or CPU instead.")
    if len(tf.config.list_physical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()
