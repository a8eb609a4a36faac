#!/usr/bin/python3
"""PyTorch reference for bench/gpu-rows.ts: training images/s of the classic MLP VAE (vae_torch.Vae)
and of Latent Atlas' conv VAE (src/engine/model.ts convEncoder/convDecoder, layer for layer) over a
fixed number of Adam steps, on CUDA or on the CPU. The plan (models, sizes, batch, step counts) comes
from bench/gpu-rows.ts, so both sides train the same configuration on the same images.

Prints one JSON object: device, threads, torch version and images/s per model.
Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import gzip
import json
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from vae_torch import FASHION, Vae, read_idx_images


class ConvVae(nn.Module):
    """Encoder: stride-2 3x3 'same' convs (relu), flatten, dense hidden layers (relu), dense mu and
    log sigma^2. Decoder: dense hidden layers (relu), dense to h0*w0*top (relu), reshape, stride-2 3x3
    transposed convs (relu) that double the size, a centre crop to the image size, a 3x3 conv to the
    channels (Bernoulli logits)."""

    def __init__(self, size, channels, filters, hidden, latent):
        super().__init__()
        enc, c, h0 = [], channels, size
        for f in filters:
            # padding=1 at stride 2 gives TF's 'same' output size, ceil(s / 2).
            enc += [nn.Conv2d(c, f, 3, stride=2, padding=1), nn.ReLU()]
            c, h0 = f, (h0 + 1) // 2
        enc.append(nn.Flatten())
        width = c * h0 * h0
        for units in hidden:
            enc += [nn.Linear(width, units), nn.ReLU()]
            width = units
        self.enc = nn.Sequential(*enc)
        self.mu, self.log_var = nn.Linear(width, latent), nn.Linear(width, latent)
        top, dec, width = filters[-1], [], latent
        for units in reversed(hidden):
            dec += [nn.Linear(width, units), nn.ReLU()]
            width = units
        dec += [nn.Linear(width, h0 * h0 * top), nn.ReLU(), nn.Unflatten(1, (top, h0, h0))]
        c = top
        for f in reversed(filters):
            # output_padding=1: the transposed conv doubles the size, as TF's 'same' does.
            dec += [nn.ConvTranspose2d(c, f, 3, stride=2, padding=1, output_padding=1), nn.ReLU()]
            c = f
        self.dec = nn.Sequential(*dec)
        self.size, self.crop = size, (h0 * 2 ** len(filters) - size) // 2
        self.out = nn.Conv2d(c, channels, 3, padding=1)

    def forward(self, x):
        h = self.enc(x)
        mu, log_var = self.mu(h), self.log_var(h)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        d = self.dec(z)[:, :, self.crop : self.crop + self.size, self.crop : self.crop + self.size]
        return self.out(d), mu, log_var


def read_idx_labels(split):
    with gzip.open(f"{FASHION}/{split}-labels-idx1-ubyte.gz", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=8)


def bench_images(size, channels, count):
    """The images bench/gpu-rows.ts benchImages() makes: Fashion-MNIST, brought to size x size by
    nearest neighbour and, for colour, tinted per class. uint8, N x C x H x W."""
    grey = read_idx_images("train")[:count].reshape(count, 28, 28)
    labels = read_idx_labels("train")[:count].astype(np.int64)
    src = np.arange(size) * 28 // size
    grey = grey[:, src][:, :, src].astype(np.float32)
    if channels == 1:
        return torch.from_numpy(grey.astype(np.uint8)[:, None])
    planes = [grey * (0.4 + 0.6 * ((labels + 3 * c) % 10) / 9)[:, None, None] for c in range(channels)]
    return torch.from_numpy(np.round(np.stack(planes, 1)).astype(np.uint8))


def measure(item, device, pool_size):
    if item["architecture"] == "mlp":
        model = Vae(hidden=item["hidden"][0], latent=item["latent"])
        pool = bench_images(28, 1, pool_size).reshape(pool_size, 784)
    else:
        model = ConvVae(item["size"], item["channels"], item["filters"], item["hidden"], item["latent"])
        pool = bench_images(item["size"], item["channels"], pool_size)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch = item["batch"]

    def step(i):
        # As the engine does: gather a uint8 batch on the host, move it over, scale to [0, 1].
        idx = (torch.arange(batch) + i * batch) % pool_size
        x = pool[idx].to(device).float().div_(255)
        logits, mu, log_var = model(x)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(1)
        loss = (rec + kl).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    for i in range(item["warmup"]):
        float(step(i))
    start = time.perf_counter()
    for i in range(item["steps"]):
        loss = step(item["warmup"] + i)
    float(loss)  # waits for CUDA's queue, so the clock stops when the last step has run
    seconds = time.perf_counter() - start
    return {
        "images_per_second": item["steps"] * batch / seconds,
        "steps": item["steps"],
        "warmup": item["warmup"],
        "params": sum(p.numel() for p in model.parameters()),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=0, help="0 = torch's default")
    p.add_argument("--pool", type=int, default=2048, help="images cycled through")
    p.add_argument("--plan", required=True, help="JSON list of {key, architecture, size, channels, batch, latent, hidden, filters, warmup, steps}")
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    device = torch.device(args.device)
    results = {}
    for item in json.loads(args.plan):
        try:
            results[item["key"]] = measure(item, device, args.pool)
        except Exception as e:  # noqa: BLE001 - one model failing (e.g. out of memory) leaves the others
            results[item["key"]] = {"error": f"{type(e).__name__}: {e}"[:300]}
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "CPU",
                "threads": torch.get_num_threads(),
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
