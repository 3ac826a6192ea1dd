from tlhelpers.transfer import backbones, models
from tlhelpers.transfer.trainability import trainability_table


def test_four_of_nineteen_vgg_layers_train_and_the_table_says_so():
    base = backbones.load_backbone("vgg16", 224, weights=None)
    model = models.transfer_classifier(base, 10, **models.LESSON_HEADS["vgg16"])
    table = trainability_table(model)
    assert table.totals["per_model"][base.name] == (0, 19)
    assert table.totals["trainable_params"] == 133_898
    models.unfreeze(model, last_n=4)
    table = trainability_table(model)
    assert table.totals["per_model"][base.name] == (4, 19)
    rows = {r["path"]: r for r in table.rows}
    assert rows["vgg16/block5_conv3"]["trainable"] and not rows["vgg16/block4_conv3"]["trainable"]
    assert rows["vgg16/block5_conv3"]["params"] == 2_359_808
    text = str(table)
    assert "inside vgg16: 4 of 19 layers trainable" in text
    assert "<table>" in table._repr_html_()
    assert len(table.filter("vgg16/").rows) == 19


def test_freezing_the_whole_model_freezes_every_nested_layer():
    base = backbones.load_backbone("mobilenet_025", 32, weights=None)
    model = models.transfer_classifier(base, 3, units=(8,))
    model.trainable = False
    table = trainability_table(model)
    assert table.totals["layers_trainable"] == 0 and table.totals["trainable_params"] == 0
    assert table.totals["per_model"]["head"] == (0, 4)
