"""binder/postBuild: executable, runs only commands that exist, and its prefetch step
really fills the Keras cache of $HOME, run against a local server serving the real
MobileNet 0.25 weights from ../shared (real bytes, real checksum).

What this cannot test offline: the real `cpu` files (MobileNetV2 weights, CIFAR-10, the
flowers) and the image build itself; `pip install` is not run here.
"""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from asset_server import AssetServer

ROOT = Path(__file__).resolve().parents[1]
POST_BUILD = ROOT / "binder" / "postBuild"
WEIGHTS = "mobilenet_2_5_224_tf_no_top.h5"
BUILTINS = {"set", "export", "cd", "echo", "test", "[", "true", "if", "then", "fi"}


def _commands() -> list[list[str]]:
    """Each command line of postBuild, split into words (comments and blanks skipped)."""
    lines = [ln.strip() for ln in POST_BUILD.read_text().splitlines()]
    return [shlex.split(ln, comments=True) for ln in lines if ln and not ln.startswith("#")]


def _path_env() -> str:
    """PATH with this interpreter first, as `python` is on Binder (its conda env)."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def test_post_build_is_an_executable_bash_script():
    assert os.access(POST_BUILD, os.X_OK)
    assert POST_BUILD.read_text().startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in POST_BUILD.read_text()


def test_every_command_exists():
    for words in _commands():
        if words[0] in BUILTINS:
            continue
        assert shutil.which(words[0], path=_path_env()), f"postBuild runs {words[0]!r}: not found"
        if words[:2] == ["python", "-m"]:
            module = words[2]
            if module != "tlhelpers":  # this package is installed by postBuild itself
                done = subprocess.run([sys.executable, "-c", f"import {module}"], timeout=60)
                assert done.returncode == 0, f"postBuild runs python -m {module}: not importable"


def test_post_build_installs_tlhelpers_and_prefetches_cpu_without_caches():
    text = POST_BUILD.read_text()
    assert "pip install --no-deps --no-cache-dir -e ." in text
    assert "pip install --no-cache-dir -c constraints.txt -e . tensorflow-cpu keras" in text   # the pins
    assert 'tlhelpers fetch --profile "${TL_BINDER_PROFILE:-cpu}"' in text
    assert 'rm -rf "${HOME}/.cache/pip"' in text


def test_prefetch_step_fills_the_keras_cache(shared_assets, tmp_path):
    """Run every line of postBuild but `pip install` with bash, HOME in a temporary folder."""
    script = "\n".join(ln for ln in POST_BUILD.read_text().splitlines() if "pip install" not in ln)
    assert "tlhelpers fetch" in script
    weights = (shared_assets / "keras-cache" / "models" / WEIGHTS).read_bytes()
    home = tmp_path / "home"
    (home / ".cache" / "pip").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TL_") and k not in ("KERAS_HOME", "PYTHONPATH")}
    with AssetServer({f"/models/{WEIGHTS}": weights}) as server:
        env.update(HOME=str(home), PATH=_path_env(), TL_MIRROR_URL=server.url,
                   TL_BINDER_PROFILE="ci", TL_FETCH_ARGS="--no-data", PYTHONPATH=str(ROOT))
        done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert [path for path, _ in server.httpd.requests] == [f"/models/{WEIGHTS}"]
    assert (home / ".keras" / "models" / WEIGHTS).read_bytes() == weights
    assert not (home / ".cache" / "pip").exists()
    assert "Done: 1 asset(s)" in done.stdout
