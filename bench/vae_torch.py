#!/usr/bin/python3
"""Reference for bench/training.ts: the classic VAE (784-400-20 MLP, Bernoulli decoder, Adam 1e-3,
batch 128) on Fashion-MNIST in PyTorch on the CPU, the same model, objective and data handling as
Latent Atlas (grey values used as Bernoulli probabilities, no binarisation; one z per image).

Prints one JSON object: training images/s, test -ELBO and its terms, float32 matmul GFLOP/s,
and torch's build and thread configuration. Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import gzip
import json
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

FASHION = "/usr/share/datasets/fashion-mnist"


def read_idx_images(split):
    with gzip.open(f"{FASHION}/{split}-images-idx3-ubyte.gz", "rb") as f:
        raw = f.read()
    count = int.from_bytes(raw[4:8], "big")
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, 784)


class Vae(nn.Module):
    def __init__(self, hidden=400, latent=20):
        super().__init__()
        self.enc = nn.Linear(784, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.dec_hidden = nn.Linear(latent, hidden)
        self.dec_out = nn.Linear(hidden, 784)

    def forward(self, x):
        h = F.relu(self.enc(x))
        mu, log_var = self.mu(h), self.log_var(h)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        logits = self.dec_out(F.relu(self.dec_hidden(z)))
        return logits, mu, log_var


def terms(model, x):
    """Per-image -log p(x|z) (one z) and closed-form KL, in nats."""
    logits, mu, log_var = model(x)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
    kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(1)
    return rec, kl


def matmul_gflops(m, k, n, seconds=0.5):
    """Best of three timed windows: a ceiling, which a shared machine only ever lowers."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    a @ b
    best = 0.0
    for _ in range(3):
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            a @ b
            runs += 1
        best = max(best, 2 * m * k * n * runs / (time.perf_counter() - start) / 1e9)
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=0, help="0 = torch's default")
    p.add_argument("--train-limit", type=int, default=60000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    train = torch.from_numpy(read_idx_images("train")[: args.train_limit].astype(np.float32) / 255.0)
    test = torch.from_numpy(read_idx_images("t10k").astype(np.float32) / 255.0)
    model = Vae()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)

    train_seconds, seen, epochs = 0.0, 0, []
    for epoch in range(args.epochs):
        order = torch.from_numpy(rng.permutation(len(train)))
        start = time.perf_counter()
        rec_sum, kl_sum = 0.0, 0.0
        for i in range(0, len(train), args.batch):
            x = train[order[i : i + args.batch]]
            rec, kl = terms(model, x)
            loss = (rec + kl).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            rec_sum += float(rec.sum())
            kl_sum += float(kl.sum())
        elapsed = time.perf_counter() - start
        train_seconds += elapsed
        seen += len(train)
        epochs.append({"epoch": epoch + 1, "seconds": elapsed, "train_neg_elbo": (rec_sum + kl_sum) / len(train)})

    with torch.no_grad():
        rec, kl = terms(model, test)
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "config": torch.__config__.show(),
                "parallel": torch.__config__.parallel_info(),
                "images_per_second": seen / train_seconds,
                "epochs": epochs,
                "test": {"reconstruction": float(rec.mean()), "kl": float(kl.mean()), "neg_elbo": float((rec + kl).mean())},
                "matmul_gflops": {
                    "square_1024": matmul_gflops(1024, 1024, 1024),
                    "model_128x784x400": matmul_gflops(128, 784, 400),
                },
                "params": sum(p.numel() for p in model.parameters()),
            }
        )
    )


if __name__ == "__main__":
    main()
