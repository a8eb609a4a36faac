#!/usr/bin/python3
"""Trains two small VAEs on Fashion-MNIST with PyTorch and exports them as Latent Atlas imported models.

Usage: /usr/bin/python3 scripts/torch-vae/train_export.py <outDir> [--quick]

Writes <outDir>/mlp/ and <outDir>/conv/ (encoder.onnx, decoder.onnx, latent-atlas-model.json and
reference.json) and <outDir>/images/<ClassName>/<n>.png, the first 100 test images. reference.json
holds PyTorch's own outputs for those images and for five fixed latents, so the loader's tests can
check an ONNX runtime against the framework that trained the model. Runs with Debian's python3-torch
(1.13), whose torch.onnx.export needs no `onnx` package.
"""

import argparse
import gzip
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable

# One thread everywhere, set before numpy and torch load OpenBLAS: a run is then repeatable bit for
# bit (CPU kernels reduce in a fixed order), and on two shared cores OpenBLAS's threads contending
# with torch's made a training step two to several times slower. torch.use_deterministic_algorithms
# is not used: it turns off oneDNN's convolutions, four times slower here.
os.environ['OPENBLAS_NUM_THREADS'] = '1'
os.environ['OMP_NUM_THREADS'] = '1'

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from PIL import Image
    from torch import nn
except ImportError as err:
    # Exit code 3 tells test/unit/torchFixture.ts that a Debian package is missing, not that training failed.
    print(f"{err}. Install Debian's python3-torch, libopenblas0-pthread, python3-numpy and python3-pil.", file=sys.stderr)
    sys.exit(3)

FASHION_DIR = '/usr/share/datasets/fashion-mnist'
CLASSES = ['T-shirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle_boot']
SIDE = 28
PIXELS = SIDE * SIDE
LATENT = 8
REFERENCE_IMAGES = 100
HELD_OUT = 2000
CONV_SIGMA = 0.2
OPSET = 13
SEED = 0


def read_idx(name, magic):
    """An IDX file from Debian's dataset-fashion-mnist as a uint8 array (images [N, 28, 28] or labels [N])."""
    path = os.path.join(FASHION_DIR, name)
    if not os.path.exists(path):
        print(f"{path} is missing. Install Debian's dataset-fashion-mnist.", file=sys.stderr)
        sys.exit(3)
    with gzip.open(path, 'rb') as f:
        data = f.read()
    found = int.from_bytes(data[0:4], 'big')
    if found != magic:
        sys.exit(f'{path}: magic number {found}, expected {magic}. Reinstall dataset-fashion-mnist.')
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], 'big') for i in range(data[3])]
    # A bytearray, not bytes: torch.from_numpy wants a writable buffer.
    return np.frombuffer(bytearray(data), dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def to_unit(pixels):
    """uint8 pixels → p in [0, 1]: a float32 division, as the tests make it from the PNGs."""
    return torch.from_numpy(np.ascontiguousarray(pixels)).to(torch.float32) / 255


class MlpEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(PIXELS, 256), nn.ReLU())
        self.mu = nn.Linear(256, LATENT)
        self.logvar = nn.Linear(256, LATENT)

    def forward(self, x):
        h = self.hidden(x)
        return self.mu(h), self.logvar(h)


class ConvEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 2 * LATENT),
        )

    def forward(self, x):
        return self.net(x)


def mlp_decoder():
    return nn.Sequential(nn.Linear(LATENT, 256), nn.ReLU(), nn.Linear(256, PIXELS))


class ToFeatureMaps(nn.Module):
    # nn.Unflatten has no ONNX export in torch 1.13; a view to a constant [-1, 64, 7, 7] exports as
    # one Reshape and keeps the batch axis free.
    def forward(self, h):
        return h.view(-1, 64, 7, 7)


def conv_decoder():
    return nn.Sequential(
        nn.Linear(LATENT, 64 * 7 * 7),
        nn.ReLU(),
        ToFeatureMaps(),
        nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1),
        nn.Tanh(),
    )


@dataclass
class Spec:
    """What differs between the two models: networks, input scaling, likelihood and the manifest."""

    name: str
    encoder: nn.Module
    decoder: nn.Module
    to_input: Callable  # p in [0, 1], [N, 28, 28] → the encoder's input
    split_stats: Callable  # the encoder's output → (μ, log σ²)
    neg_log_lik: Callable  # (decoder output, encoder input) → −log p(x|z) per image
    manifest: dict


def bernoulli_nll(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction='none').flatten(1).sum(1)


def gaussian_nll(means, x):
    per_pixel = 0.5 * ((x - means) / CONV_SIGMA) ** 2 + math.log(CONV_SIGMA) + 0.5 * math.log(2 * math.pi)
    return per_pixel.flatten(1).sum(1)


def manifest(name, flatten, normalize, encoder_outputs, decoder_output):
    """latent-atlas-model.json, fields in the order of ModelManifest (src/protocol/importedModel.ts)."""
    image = {'name': 'x', 'width': SIDE, 'height': SIDE, 'channels': 1, 'layout': 'NCHW', 'flatten': flatten}
    if normalize:
        image['normalize'] = normalize
    image['fit'] = 'fill'
    return {
        'format': 'latent-atlas-model',
        'version': 1,
        'name': name,
        'encoder': 'encoder.onnx',
        'decoder': 'decoder.onnx',
        'input': image,
        'latentSize': LATENT,
        'encoderOutputs': encoder_outputs,
        'latentInput': 'z',
        'decoderOutput': decoder_output,
        'classes': CLASSES,
        'source': f'PyTorch {torch.__version__}, scripts/torch-vae/train_export.py',
    }


def mlp_spec():
    return Spec(
        'mlp',
        MlpEncoder(),
        mlp_decoder(),
        to_input=lambda p: p.reshape(-1, PIXELS),
        split_stats=lambda out: out,
        neg_log_lik=bernoulli_nll,
        manifest=manifest(
            'Fashion-MNIST MLP VAE (PyTorch)',
            flatten=True,
            normalize=None,
            encoder_outputs={'kind': 'mu-logvar', 'mu': 'mu', 'logVar': 'logvar'},
            decoder_output={'name': 'logits', 'kind': 'logits'},
        ),
    )


def conv_spec():
    return Spec(
        'conv',
        ConvEncoder(),
        conv_decoder(),
        to_input=lambda p: ((p - 0.5) / 0.5).reshape(-1, 1, SIDE, SIDE),
        split_stats=lambda out: out.chunk(2, dim=1),
        neg_log_lik=gaussian_nll,
        manifest=manifest(
            'Fashion-MNIST conv VAE (PyTorch)',
            flatten=False,
            normalize={'mean': [0.5], 'std': [0.5]},
            encoder_outputs={'kind': 'concatenated', 'name': 'stats'},
            decoder_output={'name': 'means', 'kind': 'means', 'sigma': CONV_SIGMA},
        ),
    )


def neg_elbo(spec, x, noise):
    """−ELBO per image (nats), one reparameterised sample: reconstruction + KL(q(z|x) ‖ N(0, I))."""
    mu, logvar = spec.split_stats(spec.encoder(x))
    z = mu + torch.exp(0.5 * logvar) * noise
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
    return spec.neg_log_lik(spec.decoder(z), x) + kl


def held_out_loss(spec, x):
    """Mean −ELBO on held-out images with fixed noise, so the numbers before and after training compare."""
    with torch.no_grad():
        noise = torch.randn(x.shape[0], LATENT, generator=torch.Generator().manual_seed(SEED))
        return neg_elbo(spec, x, noise).mean().item()


def train(spec, train_p, held_out_p, epochs, batch, lr):
    params = list(spec.encoder.parameters()) + list(spec.decoder.parameters())
    optimizer = torch.optim.Adam(params, lr=lr)
    x_all = spec.to_input(train_p)
    x_held = spec.to_input(held_out_p)
    initial = held_out_loss(spec, x_held)
    order_gen = torch.Generator().manual_seed(SEED)
    spec.encoder.train()
    spec.decoder.train()
    for _ in range(epochs):
        order = torch.randperm(x_all.shape[0], generator=order_gen)
        for start in range(0, x_all.shape[0], batch):
            x = x_all[order[start : start + batch]]
            loss = neg_elbo(spec, x, torch.randn(x.shape[0], LATENT)).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    spec.encoder.eval()
    spec.decoder.eval()
    return initial, held_out_loss(spec, x_held)


def export(spec, folder):
    stats = ['mu', 'logvar'] if spec.manifest['encoderOutputs']['kind'] == 'mu-logvar' else ['stats']
    decoded = spec.manifest['decoderOutput']['name']
    example_x = spec.to_input(torch.zeros(2, SIDE, SIDE))
    example_z = torch.zeros(2, LATENT)
    batch_axis = {0: 'batch'}
    torch.onnx.export(
        spec.encoder,
        (example_x,),
        os.path.join(folder, 'encoder.onnx'),
        input_names=['x'],
        output_names=stats,
        dynamic_axes={name: batch_axis for name in ['x', *stats]},
        opset_version=OPSET,
    )
    torch.onnx.export(
        spec.decoder,
        (example_z,),
        os.path.join(folder, 'decoder.onnx'),
        input_names=['z'],
        output_names=[decoded],
        dynamic_axes={'z': batch_axis, decoded: batch_axis},
        opset_version=OPSET,
    )


def fixed_latents():
    """Five latents: the prior's mean, two axis points and two seeded draws from the prior."""
    axes = torch.zeros(2, LATENT)
    axes[0, 0] = 1.5
    axes[1, LATENT - 1] = -1
    draws = torch.randn(2, LATENT, generator=torch.Generator().manual_seed(SEED + 1))
    return torch.cat([torch.zeros(1, LATENT), axes, draws])


def reference(spec, files, pixels, losses):
    with torch.no_grad():
        mu, logvar = spec.split_stats(spec.encoder(spec.to_input(to_unit(pixels))))
        z = fixed_latents()
        decoded = spec.decoder(z).reshape(z.shape[0], -1)
    return {
        'encodings': [
            {'file': f, 'mu': m, 'logVar': lv} for f, m, lv in zip(files, mu.tolist(), logvar.tolist())
        ],
        'latents': z.tolist(),
        'decoded': decoded.tolist(),
        'negElboPerImage': losses,
    }


def write_images(out, pixels, labels):
    """The reference images as 8-bit grey PNGs, named by their index in the test set."""
    files = []
    for n, (image, label) in enumerate(zip(pixels, labels)):
        rel = f'{CLASSES[label]}/{n}.png'
        path = os.path.join(out, 'images', rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.fromarray(image, mode='L').save(path)
        files.append(rel)
    return files


def write_json(path, value, indent=None):
    with open(path, 'w') as f:
        json.dump(value, f, indent=indent)
        f.write('\n')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', help='output folder')
    parser.add_argument('--quick', action='store_true', help='train on a subset (a faster, rougher fixture)')
    args = parser.parse_args()

    started = time.time()
    torch.set_num_threads(1)

    train_images = read_idx('train-images-idx3-ubyte.gz', 2051)
    test_images = read_idx('t10k-images-idx3-ubyte.gz', 2051)
    test_labels = read_idx('t10k-labels-idx1-ubyte.gz', 2049)
    train_p = to_unit(train_images)
    held_out_p = to_unit(test_images[REFERENCE_IMAGES : REFERENCE_IMAGES + HELD_OUT])
    ref_pixels = test_images[:REFERENCE_IMAGES]
    files = write_images(args.out, ref_pixels, test_labels[:REFERENCE_IMAGES])

    # (images, epochs, batch, learning rate): sized so the whole script stays under a minute on two cores.
    plans = {
        'mlp': (10_000, 1, 128, 2e-3) if args.quick else (60_000, 3, 128, 2e-3),
        'conv': (4_000, 1, 64, 2e-3) if args.quick else (20_000, 1, 64, 2e-3),
    }
    for make_spec in (mlp_spec, conv_spec):
        # Seeded per model: each one's weights and noise do not depend on how long the other trained.
        torch.manual_seed(SEED)
        spec = make_spec()
        count, epochs, batch, lr = plans[spec.name]
        t0 = time.time()
        initial, final = train(spec, train_p[:count], held_out_p, epochs, batch, lr)
        folder = os.path.join(args.out, spec.name)
        os.makedirs(folder, exist_ok=True)
        export(spec, folder)
        losses = {'initial': initial, 'final': final, 'trainImages': count, 'epochs': epochs}
        write_json(os.path.join(folder, 'latent-atlas-model.json'), spec.manifest, indent=2)
        write_json(os.path.join(folder, 'reference.json'), reference(spec, files, ref_pixels, losses))
        print(
            f'{spec.name}: held-out -ELBO per image {initial:.1f} -> {final:.1f} nats '
            f'({count} images x {epochs} epochs, {time.time() - t0:.1f} s)',
            flush=True,
        )
    print(f'done in {time.time() - started:.1f} s', flush=True)


if __name__ == '__main__':
    main()
