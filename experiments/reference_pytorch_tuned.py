"""A tuned PyTorch version of d2l 3.6 and 4.2, for side-by-side timing: what a PyTorch user
writes for speed on a CPU, not what the book writes.

    python -m experiments.reference_pytorch_tuned DATA.npz MODEL --epochs 10 --seed 0 --out H.json

Same models, initialisation, learning rate and batch size as `reference_pytorch`, but the
images are scaled once into one float tensor, batches are index slices of a `randperm`
(no Dataset, no DataLoader, no worker processes), the loss is the stable
`F.cross_entropy`, the optimizer is `torch.optim.SGD(foreach=True)`, metrics stay tensors
until the epoch ends, and evaluation runs once over the test set in `inference_mode`.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from experiments.reference_pytorch import cli


def params(model: str, hidden: int = 256) -> list[torch.Tensor]:
    """The book's initialisation: W ~ N(0, 0.01), b = 0."""
    sizes = (784, 10) if model == "softmax" else (784, hidden, 10)
    out = []
    for m, n in zip(sizes[:-1], sizes[1:], strict=True):
        out += [(torch.randn(m, n) * 0.01).requires_grad_(), torch.zeros(n, requires_grad=True)]
    return out


def forward(ps: list[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    for i in range(0, len(ps) - 2, 2):
        X = torch.relu(X @ ps[i] + ps[i + 1])
    return X @ ps[-2] + ps[-1]


def as_tensors(images: np.ndarray, labels: np.ndarray):
    X = torch.from_numpy(images.reshape(len(images), -1)).float().div_(255)
    return X, torch.from_numpy(labels.astype(np.int64))


def train(model: str, train_data, test_data, *, epochs, batch_size, lr, seed):
    """Per-epoch train loss/accuracy, test accuracy and seconds, as `reference_pytorch`."""
    torch.manual_seed(seed)
    (X, y), (Xt, yt) = as_tensors(*train_data), as_tensors(*test_data)
    ps = params(model)
    opt = torch.optim.SGD(ps, lr=lr, foreach=True)
    history = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        loss_sum, correct = torch.zeros(()), torch.zeros((), dtype=torch.int64)
        for idx in torch.randperm(len(y)).split(batch_size):
            logits = forward(ps, X[idx])
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * len(idx)
            correct += (logits.detach().argmax(1) == y[idx]).sum()
        seconds = time.perf_counter() - t0
        with torch.inference_mode():
            test_acc = float((forward(ps, Xt).argmax(1) == yt).float().mean())
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": float(loss_sum) / len(y),
                "train_acc": float(correct) / len(y),
                "test_acc": test_acc,
                "seconds": seconds,
            }
        )
    return history


def main() -> None:
    cli(train, __doc__, workers=False)


if __name__ == "__main__":
    main()
