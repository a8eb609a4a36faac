#!/usr/bin/env bash
# `npm run bench:gpu`: the one-shot GPU benchmark, runnable from a fresh clone. Installs what it can
# from npm and (as root) Debian, tries @tensorflow/tfjs-node-gpu, then runs bench/gpu.ts, which
# prints the table and writes docs/BENCHMARKS-GPU.md. What cannot be installed becomes the reason in
# a row of the table, not a failure of the benchmark.
set -uo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund || exit 1
fi

if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends dataset-fashion-mnist python3-torch libopenblas0-pthread >/dev/null; } ||
    echo "bench:gpu: apt-get install failed; the rows that need those packages say why" >&2
  # Without any adapter (no GPU), a bookworm machine can get Mesa's software one: its rows then
  # show that the WebGPU path works, though not how fast a GPU is.
  adapters=$(node --import tsx -e "require('./src/engine/backends/webgpu').listAdapters().then((a) => console.log(a.length), () => console.log(0))" 2>/dev/null)
  if [ "${adapters:-0}" = 0 ]; then
    bash scripts/setup-webgpu-test-adapter.sh || echo "bench:gpu: no software WebGPU adapter either" >&2
  fi
else
  echo "bench:gpu: not root, so nothing is installed from Debian (dataset-fashion-mnist, python3-torch, libopenblas0-pthread)" >&2
fi

# tfjs-node-gpu goes into its own folder (bench/gpu.ts loads it through nativeModulesPath). Its
# install script downloads libtensorflow from storage.googleapis.com, outside npm and Debian, so
# it is tried only when asked for (BENCH_INSTALL_TFJS_NODE_GPU=1); otherwise its row says how.
# BENCH_QUICK keeps the reason of an earlier failed attempt instead of trying again.
tools=.tools/tfjs-node-gpu
if [ ! -d "$tools/node_modules/@tensorflow/tfjs-node-gpu" ] && [ "${BENCH_INSTALL_TFJS_NODE_GPU:-}" != 1 ]; then
  mkdir -p "$tools"
  echo "not installed: it downloads libtensorflow from storage.googleapis.com (outside npm), so bench:gpu installs it only with BENCH_INSTALL_TFJS_NODE_GPU=1" >"$tools/install-error.txt"
elif [ ! -d "$tools/node_modules/@tensorflow/tfjs-node-gpu" ] && ! { [ "${BENCH_QUICK:-}" = 1 ] && [ -f "$tools/install-error.txt" ]; }; then
  mkdir -p "$tools"
  rm -f "$tools/install-error.txt"
  [ -f "$tools/package.json" ] || printf '{\n  "private": true,\n  "allowScripts": { "@tensorflow/tfjs-node-gpu": true }\n}\n' >"$tools/package.json"
  echo "bench:gpu: installing @tensorflow/tfjs-node-gpu@4.22.0 into $tools (at most 4 min)" >&2
  timeout 240 npm install --prefix "$tools" --no-audit --no-fund @tensorflow/tfjs-node-gpu@4.22.0 >"$tools/install.log" 2>&1
  rc=$?
  if [ "$rc" != 0 ]; then
    if [ "$rc" = 124 ]; then
      why="it did not finish within 240 s"
    else
      url=$(grep -m1 -o 'https://[^ ]*libtensorflow[^ ]*' "$tools/install.log")
      error=$(grep -m1 -o 'Error: .*' "$tools/install.log")
      why="${url:+its install script downloads $url, outside npm: }${error:-exit code $rc}"
    fi
    echo "npm install @tensorflow/tfjs-node-gpu@4.22.0 failed ($why); log in $tools/install.log" >"$tools/install-error.txt"
    echo "bench:gpu: $(cat "$tools/install-error.txt")" >&2
  fi
fi

node --import tsx bench/gpu.ts
rc=$?
echo "bench:gpu: total wall time $((SECONDS - started)) s" >&2
exit $rc
