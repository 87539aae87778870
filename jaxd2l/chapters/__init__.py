"""Each d2l section's own code beyond the engine: classification, model selection,
backprop and the computational graph, numerical stability, piecewise linearity,
distribution shift, house prices.
"""
