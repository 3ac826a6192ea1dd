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
