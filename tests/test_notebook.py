from tlhelpers import notebook


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
