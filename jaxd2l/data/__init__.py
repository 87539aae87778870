"""Data: synthetic regression data, Fashion-MNIST through tfds, and epoch batching."""
