import numpy as np

from jaxd2l.data import fashion_mnist as fm


def test_tfds_builder_round_trip_keeps_file_order(fake_fashion_mnist):
    folder, arrays = fake_fashion_mnist
    for split in ("train", "test"):
        images, labels = fm.load_fashion_mnist(split, data_dir=folder)
        assert images.dtype == np.uint8 and images.shape == arrays[split][0].shape
        assert labels.dtype == np.int32
        np.testing.assert_array_equal(images, arrays[split][0])
        np.testing.assert_array_equal(labels, arrays[split][1])


def test_tfds_builder_keeps_tfds_names(fake_fashion_mnist, tmp_path):
    from jaxd2l.data.tfds_builder import FashionMnist

    folder, _ = fake_fashion_mnist
    builder = FashionMnist(source_dir=folder, data_dir=str(tmp_path), file_format="array_record")
    builder.download_and_prepare(file_format="array_record")
    assert builder.name == "fashion_mnist"
    assert builder.info.features["label"].names[0] == "T-shirt/top"
    assert builder.info.splits["train"].num_examples == 300
    assert sorted(builder.info.splits.keys()) == ["test", "train"]
