from tlhelpers.startup import notebook


def test_start_seeds_prints_profile_and_versions(capsys):
    profile = notebook.start(seed=1, profile="ci")
    out = capsys.readouterr().out
    assert profile.name == "ci"
    for word in ("profile", "backbone", "tensorflow", "keras", "seed           : 1"):
        assert word in out
    assert not notebook.in_colab()


def test_start_warns_about_random_weights(monkeypatch, capsys):
    monkeypatch.setenv("TL_WEIGHTS", "random")
    notebook.start(profile="ci")
    assert "accuracy below is meaningless" in capsys.readouterr().out


def test_need_names_the_cell_to_run():
    import pytest

    notebook.need({"head": 1, "x": 2}, "head", "x", run="unused")
    with pytest.raises(notebook.NotReadyError, match=r"`head_weights` is not defined yet: run the "
                       r"cell under '3\. Data' first, then this cell again\."):
        notebook.need({}, "head_weights", run="run the cell under '3. Data' first")
    try:
        notebook.need({}, "a", "b", run="run section 2")
    except NameError as err:   # a NotReadyError is a NameError, with a one-line display in Jupyter
        assert err._render_traceback_() == [f"NotReadyError: {err}"] and "`a`, `b` are" in str(err)


def _memory(monkeypatch, available_mb, own_mb=500):
    monkeypatch.setattr(notebook, "available_memory_mb", lambda: (available_mb, own_mb))


def test_start_warns_when_memory_is_low(monkeypatch, capsys):
    _memory(monkeypatch, 300)
    notebook.start(profile="ci")
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("WARNING")]
    assert len(lines) == 1
    assert "300 MB available" in lines[0] and "about 800 MB more" in lines[0]
    assert "peaks near 1,300 MB in the ci profile" in lines[0]
    assert "Shut Down All Kernels" in lines[0] and "Binder the whole session has 2 GB" in lines[0]


def test_start_is_quiet_when_memory_is_enough(monkeypatch, capsys):
    _memory(monkeypatch, 8000)
    notebook.start(profile="ci")
    assert "low memory" not in capsys.readouterr().out
    assert notebook.memory_warning("full") is None
    _memory(monkeypatch, 1000, own_mb=1200)   # this kernel already holds most of its peak
    assert notebook.memory_warning("full") is None and notebook.memory_warning("cpu") is None


def test_memory_check_never_raises(monkeypatch, capsys):
    def broken():
        raise RuntimeError("no /proc here")
    monkeypatch.setattr(notebook, "available_memory_mb", broken)
    notebook.start(profile="ci")
    assert "low memory" not in capsys.readouterr().out
    assert notebook.memory_warning("no-such-profile") is None
    monkeypatch.setattr(notebook, "available_memory_mb", lambda: None)   # no psutil
    assert notebook.memory_warning("cpu") is None


def test_memory_without_psutil_is_skipped(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_psutil(name, *args, **kwargs):
        if name == "psutil":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_psutil)
    assert notebook.available_memory_mb() is None


def test_cgroup_limit_counts_when_smaller(monkeypatch, tmp_path):
    """A container's cgroup v2 limit (Binder: 2 GB) wins over the host's free memory."""
    import psutil

    (tmp_path / "memory.max").write_text(f"{2 * 2**30}\n")
    (tmp_path / "memory.current").write_text(f"{1900 * 2**20}\n")
    (tmp_path / "memory.stat").write_text(f"anon 1\ninactive_file {100 * 2**20}\n")
    assert notebook._cgroup_available(tmp_path) == 248 * 2**20   # 2048 - (1900 - 100)
    monkeypatch.setattr(notebook, "CGROUP_DIR", tmp_path)
    available, own = notebook.available_memory_mb()
    assert available == min(248, psutil.virtual_memory().available / 2**20) and own > 0
    (tmp_path / "memory.max").write_text("max\n")
    assert notebook._cgroup_available(tmp_path) is None
    assert notebook._cgroup_available(tmp_path / "absent") is None
    (tmp_path / "memory.max").write_text("garbage\n")
    assert notebook._cgroup_available(tmp_path) is None


def test_start_silences_only_the_native_weights_warning():
    import warnings

    message = ("`input_shape` is undefined or non-square, or `rows` is not in [128, 160, 192, 224]. "
               "Weights for input shape (224, 224) will be loaded as the default.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        notebook.start(seed=1, profile="ci", verbose=False)
        warnings.warn(message, UserWarning)          # MobileNet at 96 px: intended, silenced
        warnings.warn("Weights could not be loaded", UserWarning)   # any other: still shown
    assert [str(w.message) for w in caught] == ["Weights could not be loaded"]


def test_start_drops_only_tensorflows_retracing_warning():
    """Notebook 04 compares several models; TensorFlow's advice about retracing in a loop does
    not apply there. start() drops that one message from TensorFlow's log, nothing else."""
    import logging

    notebook.start(seed=0, verbose=False)
    notebook.start(seed=0, verbose=False)   # twice: still one filter
    logger = logging.getLogger("tensorflow")
    assert sum(isinstance(f, notebook._DropMessage) for f in logger.filters) == 1
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    try:
        logger.warning("5 out of the last 15 calls to <function f> triggered tf.function retracing. Tracing ...")
        logger.warning("Some other TensorFlow warning")
    finally:
        logger.removeHandler(handler)
    assert seen == ["Some other TensorFlow warning"]


def test_cgroup_v1_and_binders_mem_limit_count_too(tmp_path, monkeypatch):
    """Issue 29: a cgroup v1 limit (memory/memory.limit_in_bytes) and Binder's MEM_LIMIT lower
    the memory the warning counts on, like a cgroup v2 limit."""
    import psutil

    v1 = tmp_path / "memory"
    v1.mkdir()
    (v1 / "memory.limit_in_bytes").write_text(f"{2 * 2**30}\n")
    (v1 / "memory.usage_in_bytes").write_text(f"{1900 * 2**20}\n")
    (v1 / "memory.stat").write_text(f"cache 5\ntotal_inactive_file {100 * 2**20}\n")
    assert notebook._cgroup_available(tmp_path) == 248 * 2**20
    (v1 / "memory.limit_in_bytes").write_text("9223372036854771712\n")   # v1's "no limit"
    assert notebook._cgroup_available(tmp_path) is None
    monkeypatch.setattr(notebook, "CGROUP_DIR", tmp_path)
    monkeypatch.setenv("MEM_LIMIT", str(2**31))
    available, own = notebook.available_memory_mb()
    assert available <= max(2048 - own, 0) + 1e-6
    assert available <= psutil.virtual_memory().available / 2**20
    monkeypatch.setenv("MEM_LIMIT", "2G")   # not bytes: ignored, not a crash
    assert notebook.available_memory_mb() is not None
