"""Models as pairs of pure functions: `init(key, ...) -> params`, `apply(params, X) -> output`.

From scratch: `linear`, `softmax`, `mlp`, `perceptron` (no classes). Concise: `concise`
wraps flax modules into the same (params, apply) contract.
"""
