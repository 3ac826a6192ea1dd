"""Same profile, same seed, same machine: the same metrics, twice in a row.

Each run is a fresh Python process (as a learner's kernel restart would be) that does a
short real training in the ``ci`` profile: features from the pretrained base, a head on
them, then end-to-end fine-tuning of the top of the base on a shuffled pipeline.
"""

import json
import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import json
from tlhelpers.transfer import backbones, models, pipeline, training
from tlhelpers.datasets import data
from tlhelpers.startup import notebook
profile = notebook.start(seed=42, profile="ci", verbose=False)
cifar = data.load_cifar10(10, 2)
x_tr, y_tr, x_val, y_val = data.train_val_split(cifar.x_train, cifar.y_train, val_fraction=0.2)
kw = dict(image_size=profile.image_size, preprocess=profile.backbone, batch_size=16)
fit_ds = pipeline.make_dataset(x_tr, y_tr, shuffle=True, **kw)
val_ds = pipeline.make_dataset(x_val, y_val, **kw)
base = backbones.load_backbone(profile.backbone, profile.image_size)
f_tr, l_tr = training.extract_features(base, pipeline.make_dataset(x_tr, y_tr, **kw), verbose=False)
f_val, l_val = training.extract_features(base, val_ds, verbose=False)
model = models.transfer_classifier(base, 10)
history = training.fit_two_phase(model, fit_ds, val_ds, head_epochs=2, fine_tune_epochs=1,
                                 unfreeze_last=6, cached_features=(f_tr, l_tr, f_val, l_val),
                                 verbose=False)
print("RESULT " + json.dumps(history))
"""


def _run_once(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(l for l in out.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_same_seed_same_metrics_in_two_fresh_processes(shared_assets, tmp_path):
    env = {**os.environ, "TL_PROFILE": "ci", "TL_OFFLINE": "1", "TL_ASSETS_DIR": str(shared_assets),
           "KERAS_HOME": str(tmp_path / "keras"), "TL_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("TL_WEIGHTS", None)
    first, second = _run_once(env), _run_once(env)
    assert first["fine_tune_start"] == 2 and len(first["val_accuracy"]) == 3
    assert all(0.0 <= acc <= 1.0 for acc in first["val_accuracy"]) and first["loss"][0] > 0
    assert first == second, "the same seed gave different metrics:\n%s\n%s" % (first, second)
