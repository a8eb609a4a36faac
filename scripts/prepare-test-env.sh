#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages, once: Debian's Chromium (browser and
# end-to-end tests), Debian's Fashion-MNIST (real data), PyTorch (models trained outside the
# extension, for the imported-model tests), Mesa 25's software Vulkan adapter (the
# WebGPU backend's tests) and code-server (a real VS Code, see test/e2e/README.md). Safe to run
# again; does nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || need+=(dataset-fashion-mnist)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
# PIL: the reference bench/load-folder.ts measures folder loading against.
dpkg -s python3-pil >/dev/null 2>&1 || need+=(python3-pil)
dpkg -s python3-numpy >/dev/null 2>&1 || need+=(python3-numpy)
# PyTorch for /usr/bin/python3: scripts/torch-vae/train_export.py trains the VAEs the imported-model
# tests load and exports them with torch.onnx.export. python3-torch accepts any libblas.so.3;
# OpenBLAS is named so its matrix products do not fall back to the far slower reference BLAS.
dpkg -s python3-torch >/dev/null 2>&1 || need+=(python3-torch)
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need+=(libopenblas0-pthread)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "The tests need these Debian packages: ${need[*]}. Install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "Installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

scripts/setup-webgpu-test-adapter.sh

if [ -x scripts/setup-code-server.sh ]; then
  scripts/setup-code-server.sh
fi
