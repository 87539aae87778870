"""The d2l PyTorch code of chapters 3.6 and 4.2, as the book runs it, for side-by-side timing.

`experiments.benchmark` runs it in a child process with no JAX loaded (PyTorch's
DataLoader forks its workers, and forking a process that runs JAX's threads can
deadlock), when torch is installed:

    python -m experiments.reference_pytorch DATA.npz MODEL --epochs 10 --seed 0 --out H.json

It mirrors d2l: a Dataset applying ToTensor per image, DataLoader(shuffle=True, 4 workers),
the scratch softmax with the naive cross-entropy and d2l.sgd, the scratch MLP with
nn.CrossEntropyLoss and torch.optim.SGD, and train_epoch_ch3's per-batch host metrics.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch import nn


class ToTensorDataset(torch.utils.data.Dataset):
    """torchvision's FashionMNIST + ToTensor: each item becomes float [1, 28, 28] in [0, 1]."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        image = torch.from_numpy(self.images[i]).permute(2, 0, 1).float().div(255)
        return image, int(self.labels[i])


def softmax_scratch(lr: float):
    """d2l 3.6: (net, loss, updater) with the book's code."""
    W = torch.normal(0, 0.01, size=(784, 10), requires_grad=True)
    b = torch.zeros(10, requires_grad=True)

    def net(X):
        X_exp = torch.exp(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)
        return X_exp / X_exp.sum(1, keepdim=True)

    def loss(y_hat, y):
        return -torch.log(y_hat[range(len(y_hat)), y])

    def updater(batch_size):
        with torch.no_grad():
            for param in (W, b):
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    return net, loss, updater


def mlp_scratch(lr: float, hidden: int = 256):
    """d2l 4.2: (net, loss, updater) with the book's code."""
    W1 = nn.Parameter(torch.randn(784, hidden, requires_grad=True) * 0.01)
    b1 = nn.Parameter(torch.zeros(hidden, requires_grad=True))
    W2 = nn.Parameter(torch.randn(hidden, 10, requires_grad=True) * 0.01)
    b2 = nn.Parameter(torch.zeros(10, requires_grad=True))

    def net(X):
        H = torch.relu(X.reshape((-1, 784)) @ W1 + b1)
        return H @ W2 + b2

    return net, nn.CrossEntropyLoss(reduction="none"), torch.optim.SGD([W1, b1, W2, b2], lr=lr)


def _accuracy(y_hat, y) -> float:
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    return float((y_hat.type(y.dtype) == y).type(y.dtype).sum())


def train(model: str, train_data, test_data, *, epochs, batch_size, lr, seed, workers=4):
    """d2l's train_ch3: per-epoch train loss/accuracy, test accuracy and seconds."""
    torch.manual_seed(seed)
    net, loss, updater = softmax_scratch(lr) if model == "softmax" else mlp_scratch(lr)
    train_iter = torch.utils.data.DataLoader(
        ToTensorDataset(*train_data), batch_size, shuffle=True, num_workers=workers
    )
    test_iter = torch.utils.data.DataLoader(
        ToTensorDataset(*test_data), batch_size, shuffle=False, num_workers=workers
    )
    history = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        total = np.zeros(3)
        for X, y in train_iter:
            y_hat = net(X)
            l = loss(y_hat, y)
            if isinstance(updater, torch.optim.Optimizer):
                updater.zero_grad()
                l.mean().backward()
                updater.step()
            else:
                l.sum().backward()
                updater(X.shape[0])
            total += (float(l.sum().detach()), _accuracy(y_hat, y), y.numel())
        seconds = time.perf_counter() - t0
        correct = count = 0
        with torch.no_grad():
            for X, y in test_iter:
                correct += _accuracy(net(X), y)
                count += y.numel()
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": total[0] / total[2],
                "train_acc": total[1] / total[2],
                "test_acc": correct / count,
                "seconds": seconds,
            }
        )
    return history


def cli(train_fn, doc: str, workers: bool) -> None:
    """The command line both baselines share: read DATA.npz, train MODEL, write the history
    and the whole run's seconds to --out (JSON). `workers`: take --workers (the DataLoader's)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("data", help=".npz with train_images, train_labels, test_*")
    parser.add_argument("model", choices=("softmax", "mlp"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    if workers:
        parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--out", required=True, help="where to write the history (JSON)")
    args = parser.parse_args()
    with np.load(args.data) as z:
        train_data = (z["train_images"], z["train_labels"])
        test_data = (z["test_images"], z["test_labels"])
    settings = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    if workers:
        settings["workers"] = args.workers
    t0 = time.perf_counter()
    history = train_fn(args.model, train_data, test_data, **settings)
    total = time.perf_counter() - t0  # the whole run: every epoch and evaluation
    with open(args.out, "w") as fh:
        info = {"torch": torch.__version__, "threads": torch.get_num_threads()}
        json.dump({**info, "total_s": total, "history": history}, fh)


def main() -> None:
    cli(train, __doc__, workers=True)


if __name__ == "__main__":
    main()
