"""Tests for tlhelpers.figures.plots (and the re-exported tlhelpers.figures.plots_models)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tlhelpers.figures import plots  # noqa: E402
from tlhelpers.figures.plots import _to_displayable  # noqa: E402

CLASSES = ["cat", "dog", "bird"]


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)


@pytest.fixture
def close_figs():
    yield
    plt.close("all")


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def titles(fig):
    return [ax.get_title() for ax in visible_axes(fig)]


def legend_texts(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def line_labels(ax):
    return [line.get_label() for line in ax.get_lines()]


# --- _to_displayable ---------------------------------------------------------

def test_to_displayable_uint8():
    out = _to_displayable(np.array([[0, 128, 255]], dtype=np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0, 128 / 255, 1]], rtol=1e-6)


def test_to_displayable_float_0_1_unchanged_and_clipped():
    np.testing.assert_allclose(_to_displayable(np.array([0.0, 0.5, 1.0])), [0, 0.5, 1])
    np.testing.assert_allclose(_to_displayable(np.array([-0.2, 0.5])), [0, 0.5])


def test_to_displayable_float_0_255():
    np.testing.assert_allclose(_to_displayable(np.array([0.0, 127.5, 255.0, 300.0])), [0, 0.5, 1, 1])


# --- show_images ---------------------------------------------------------------

def test_show_images(images, close_figs):
    labels = [0, 1, 2, 0, 1, 2, 0, 1]
    fig = plots.show_images(images, labels, CLASSES, n=6, ncols=4, title="Some images")
    assert isinstance(fig, Figure)
    assert len(visible_axes(fig)) == 6
    assert titles(fig) == [CLASSES[i] for i in labels[:6]]
    assert not any(ax.axison for ax in fig.axes)
    assert fig._suptitle.get_text() == "Some images"


def test_show_images_n_larger_than_batch_grayscale_float(close_figs):
    gray = np.random.default_rng(1).random((3, 16, 16, 1))
    fig = plots.show_images(gray, np.eye(3)[[0, 1, 2]], CLASSES, n=16)
    assert len(visible_axes(fig)) == 3
    assert titles(fig) == CLASSES
    assert fig.axes[0].images[0].get_cmap().name == "gray"


def test_show_images_bad_input(images):
    with pytest.raises(ValueError, match="8 images but 3 labels"):
        plots.show_images(images, [0, 1, 2], CLASSES)
    with pytest.raises(ValueError, match="class id 5"):
        plots.show_images(images, [5] * 8, CLASSES)
    with pytest.raises(ValueError, match="looks like ONE image"):
        plots.show_images(images[0], [0] * 32, CLASSES)
    with pytest.raises(ValueError, match="got \\(32, 32\\)"):
        plots.show_images(images[0, :, :, 0], [0] * 32, CLASSES)


# --- plot_history / compare_histories ----------------------------------------

HIST = {"accuracy": [0.5, 0.6, 0.7, 0.8], "loss": [1.2, 1.0, 0.8, 0.6],
        "val_accuracy": [0.55, 0.6, 0.65, 0.7], "val_loss": [1.1, 1.0, 0.9, 0.85]}


def test_plot_history(close_figs):
    fig = plots.plot_history(HIST, title="Run")
    assert isinstance(fig, Figure)
    assert titles(fig) == ["Accuracy", "Loss"]
    for ax in fig.axes:
        assert legend_texts(ax) == ["train", "validation"]
        assert "fine-tuning starts" not in line_labels(ax)
        np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3, 4])


def test_plot_history_fine_tune_marker(close_figs):
    fig = plots.plot_history({**HIST, "fine_tune_start": 2})
    for ax in fig.axes:
        markers = [ln for ln in ax.get_lines() if ln.get_label() == "fine-tuning starts"]
        assert len(markers) == 1
        assert markers[0].get_linestyle() == "--"
        np.testing.assert_allclose(markers[0].get_xdata(), [2.5, 2.5])
        assert "fine-tuning starts" in legend_texts(ax)


def test_plot_history_train_only(close_figs):
    fig = plots.plot_history({"accuracy": [0.5, 0.6], "loss": [1.0, 0.9]})
    assert [legend_texts(ax) for ax in fig.axes] == [["train"], ["train"]]


def test_plot_history_bad_input():
    with pytest.raises(ValueError, match="no 'accuracy'"):
        plots.plot_history({"loss": [1.0]})
    with pytest.raises(ValueError, match="val_loss'\\] has 2 values"):
        plots.plot_history({**HIST, "val_loss": [1.0, 0.9]})
    with pytest.raises(ValueError, match="fine_tune_start"):
        plots.plot_history({**HIST, "fine_tune_start": 9})


def test_compare_histories(close_figs):
    runs = {"frozen": HIST, "fine-tuned": {**HIST, "fine_tune_start": 2}}
    fig = plots.compare_histories(runs, title="Compare")
    assert isinstance(fig, Figure)
    assert titles(fig) == ["Validation accuracy", "Validation loss"]
    left, right = fig.axes
    assert legend_texts(left) == ["frozen", "fine-tuned", "fine-tuned: fine-tuning starts"]
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), HIST["val_loss"])
    fig2 = plots.compare_histories(runs, metric="accuracy")
    np.testing.assert_allclose(fig2.axes[1].get_lines()[0].get_ydata(), HIST["loss"])


def test_compare_histories_bad_input():
    with pytest.raises(ValueError, match="empty"):
        plots.compare_histories({})
    with pytest.raises(ValueError, match="histories\\['b'\\] has no 'val_accuracy'"):
        plots.compare_histories({"a": HIST, "b": {"accuracy": [0.1], "loss": [1.0]}})


# --- plot_confusion_matrix -------------------------------------------------------

def test_plot_confusion_matrix(close_figs):
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0]
    fig = plots.plot_confusion_matrix(y_true, y_pred, CLASSES, title="CM")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3  # heatmap, bars, colorbar
    ax_cm, ax_bar = fig.axes[:2]
    assert ax_cm.get_title() == "Confusion matrix (row-normalised)"
    assert (ax_cm.get_xlabel(), ax_cm.get_ylabel()) == ("Predicted", "True")
    assert "0.50" in [t.get_text() for t in ax_cm.texts]
    assert ax_bar.get_title() == "Per-class accuracy"
    np.testing.assert_allclose([p.get_width() for p in ax_bar.patches], [0.5, 1.0, 0.5])
    assert legend_texts(ax_bar) == ["overall accuracy (0.667)"]


def test_plot_confusion_matrix_counts_missing_class_and_probs(close_figs):
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    fig = plots.plot_confusion_matrix([0, 1, 1], probs, CLASSES, normalize=False)
    ax_cm, ax_bar = fig.axes[:2]
    assert ax_cm.get_title() == "Confusion matrix (counts)"
    assert "1" in [t.get_text() for t in ax_cm.texts]
    assert "n/a" in [t.get_text() for t in ax_bar.texts]  # 'bird' has no true samples
    fig2 = plots.plot_confusion_matrix([0, 1, 1], [0, 1, 2], CLASSES, normalize=True)
    assert len(fig2.axes) == 3


def test_plot_confusion_matrix_bad_input():
    with pytest.raises(ValueError, match="y_true has 3 entries but y_pred has 2"):
        plots.plot_confusion_matrix([0, 1, 2], [0, 1], CLASSES)
    with pytest.raises(ValueError, match="y_pred contains class id 3"):
        plots.plot_confusion_matrix([0, 1, 2], [0, 1, 3], CLASSES)


# --- show_predictions ------------------------------------------------------------

def test_show_predictions(images, close_figs):
    probs = np.full((8, 3), 0.1)
    probs[np.arange(8), [0, 1, 2, 0, 1, 2, 0, 1]] = 0.8
    y_true = [0, 1, 0, 0, 2, 2, 0, 1]  # wrong at index 2 and 4
    fig = plots.show_predictions(images, y_true, probs, CLASSES, n=8, ncols=4)
    assert isinstance(fig, Figure)
    axes = visible_axes(fig)
    assert len(axes) == 8
    assert axes[0].get_title() == "✓ cat (80%)\ntrue: cat"
    assert axes[2].get_title() == "✗ bird (80%)\ntrue: cat"
    colors = [ax.title.get_color() for ax in axes]
    assert colors == ["green", "green", "red", "green", "red", "green", "green", "green"]


def test_show_predictions_bad_input(images):
    with pytest.raises(ValueError, match=r"probs must have shape \(N, 3\).*got \(8, 2\)"):
        plots.show_predictions(images, [0] * 8, np.ones((8, 2)) / 2, CLASSES)
    with pytest.raises(ValueError, match="8 images but 7 y_true"):
        plots.show_predictions(images, [0] * 7, np.ones((8, 3)) / 3, CLASSES)


# --- show_augmentations ----------------------------------------------------------

def test_show_augmentations_keras(images, close_figs):
    import keras

    augment = keras.Sequential([keras.layers.RandomFlip("horizontal")])
    fig = plots.show_augmentations(images[0], augment, n=4, ncols=4, title="Augmentations")
    assert isinstance(fig, Figure)
    assert titles(fig) == ["original", "augmented 1", "augmented 2", "augmented 3"]
    flipped_or_same = [np.asarray(ax.images[0].get_array()) for ax in fig.axes]
    original = images[0] / 255.0
    for arr in flipped_or_same[1:]:
        assert np.allclose(arr, original, atol=1e-5) or np.allclose(arr, original[:, ::-1], atol=1e-5)


def test_show_augmentations_plain_callable(close_figs):
    calls = []

    def brighten(x):  # no `training` argument
        calls.append((x.dtype, x.shape, float(x.max())))
        return x + 100.0  # goes above 255: must be clipped

    img = np.full((8, 8, 3), 0.8, dtype=np.float32)  # float in [0, 1]
    fig = plots.show_augmentations(img, brighten, n=3)
    assert len(visible_axes(fig)) == 3
    assert calls == [(np.float32, (1, 8, 8, 3), pytest.approx(204.0))] * 2
    assert np.asarray(fig.axes[1].images[0].get_array()).max() == pytest.approx(1.0)


def test_show_augmentations_bad_input():
    with pytest.raises(ValueError, match="image must have shape"):
        plots.show_augmentations(np.zeros((2, 8, 8, 3)), lambda x: x)
    with pytest.raises(ValueError, match="callable"):
        plots.show_augmentations(np.zeros((8, 8, 3)), "flip")


# --- show_filters / show_activations -------------------------------------------

def test_show_filters_rgb_and_gray(close_figs):
    rng = np.random.default_rng(2)
    fig = plots.show_filters(rng.normal(size=(3, 3, 3, 12)), n=10, ncols=5, title="Filters")
    assert len(visible_axes(fig)) == 10
    assert titles(fig)[:2] == ["filter 0", "filter 1"]
    arr = np.asarray(fig.axes[0].images[0].get_array())
    assert arr.shape == (3, 3, 3) and arr.min() >= 0 and arr.max() <= 1
    fig2 = plots.show_filters(rng.normal(size=(5, 5, 16, 4)))
    assert len(visible_axes(fig2)) == 4
    assert fig2.axes[0].images[0].get_cmap().name == "gray"


def test_show_filters_keras_variable(close_figs):
    import keras

    layer = keras.layers.Conv2D(4, 3)
    layer.build((None, 8, 8, 3))
    fig = plots.show_filters(layer.kernel)
    assert len(visible_axes(fig)) == 4


def test_show_filters_bad_input():
    with pytest.raises(ValueError, match=r"\(kh, kw, in_ch, out_ch\), got shape \(3, 3, 3\)"):
        plots.show_filters(np.zeros((3, 3, 3)))


def test_show_activations(close_figs):
    rng = np.random.default_rng(3)
    acts = {"conv1": rng.random((1, 16, 16, 8)), "conv2": rng.random((8, 8, 3))}
    fig = plots.show_activations(acts, n_channels=4, title="Activations")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 4 + 3  # conv2 has only 3 channels
    assert fig.axes[0].get_ylabel() == "conv1\n16x16x8"
    assert fig.axes[4].get_ylabel() == "conv2\n8x8x3"
    assert all(ax.get_title().startswith("channel ") for ax in fig.axes)
    assert fig.axes[0].images[0].get_cmap().name == "viridis"


def test_show_activations_bad_input():
    with pytest.raises(ValueError, match=r"activations\['x'\] has shape \(2, 4, 4, 3\)"):
        plots.show_activations({"x": np.zeros((2, 4, 4, 3))})
    with pytest.raises(ValueError, match="empty"):
        plots.show_activations({})


# --- plot_results / plot_lines / plot_scatter ---------------------------------

def test_plot_results(close_figs):
    fig = plots.plot_results({"scratch": 0.5512, "transfer": 0.9})
    ax = fig.axes[0]
    assert len(fig.axes) == 1
    assert ax.get_title() == "Test accuracy"
    assert [t.get_text() for t in ax.texts] == ["0.551", "0.900"]
    assert ax.get_ylim()[0] == 0
    assert ax.get_legend() is None


def test_plot_results_with_reference(close_figs):
    fig = plots.plot_results({"scratch": 0.55, "transfer": 0.9}, title="Results",
                             reference={"transfer": 0.93, "fine-tune": 0.95})
    ax = fig.axes[0]
    assert ax.get_title() == "Results"
    assert legend_texts(ax) == ["this run", "reported by the original lesson"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["scratch", "transfer", "fine-tune"]
    assert sorted(t.get_text() for t in ax.texts) == ["0.550", "0.900", "0.930", "0.950"]
    assert any(p.get_hatch() == "//" for p in ax.patches)
    with pytest.raises(ValueError, match="empty"):
        plots.plot_results({})


def test_plot_lines(close_figs):
    x = [100, 300, 1000]
    fig = plots.plot_lines(x, {"frozen": [0.6, 0.7, 0.8], "scratch": [0.3, 0.4, 0.6]},
                           "training images", "accuracy", logx=True, annotate=True)
    ax = fig.axes[0]
    assert ax.get_title() == "accuracy vs training images"
    assert ax.get_xscale() == "log"
    assert legend_texts(ax) == ["frozen", "scratch"]
    assert "0.700" in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError, match=r"series\['a'\] has 2 values but x has 3"):
        plots.plot_lines(x, {"a": [1, 2]}, "x", "y")


def test_plot_scatter(close_figs):
    fig = plots.plot_scatter([16, 50, 121], [138e6, 25.6e6, 8e6], ["VGG16", "ResNet50", "DenseNet121"],
                             "depth", "parameters", logy=True)
    ax = fig.axes[0]
    assert ax.get_title() == "parameters vs depth"
    assert [t.get_text() for t in ax.texts] == ["VGG16", "ResNet50", "DenseNet121"]
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="labels has 1 values but x has 2"):
        plots.plot_scatter([1, 2], [1, 2], ["a"], "x", "y")
    with pytest.raises(ValueError, match="positive y"):
        plots.plot_scatter([1, 2], [0, 2], ["a", "b"], "x", "y", logy=True)


def test_no_plt_show(monkeypatch, images, close_figs):
    def fail():
        raise AssertionError("plt.show() must not be called")

    monkeypatch.setattr(plt, "show", fail)
    plots.show_images(images, [0] * 8, CLASSES)
    plots.plot_history(HIST)
