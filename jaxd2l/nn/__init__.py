"""Building blocks over arrays: activations, losses, metrics, regularization (d2l 3-4)."""
