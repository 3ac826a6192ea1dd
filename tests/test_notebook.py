from tlhelpers import notebook


def test_start_seeds_prints_profile_and_versions(capsys):
    profile = notebook.start(seed=1, profile="ci")
    out = capsys.readouterr().out
    assert profile.name == "ci"
    for word in ("profile", "backbone", "tensorflow", "keras", "seed           : 1"):
        assert word in out
    assert not notebook.in_colab()
