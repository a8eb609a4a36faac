// How a backend report reads to a person, the same in the status bar, the ELBO panel, the log and
// the CLI: the backend, and what it runs on.

import type { BackendReport, GpuAdapterReport } from './model';

/** "webgpu · NVIDIA GeForce RTX 3080", "wasm (SIMD on, 1 thread)", "cpu". */
export function backendText(b: BackendReport): string {
  if (b.adapter) return `${b.name} on ${adapterText(b.adapter)}`;
  if (b.name === 'wasm') {
    const threads = b.threads ?? 1;
    return `wasm (SIMD ${b.simd ? 'on' : 'off'}, ${threads} thread${threads === 1 ? '' : 's'})`;
  }
  return b.name;
}

/** The adapter's own description (or vendor and architecture), marked when it is software. */
export function adapterText(a: GpuAdapterReport): string {
  const name = a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' ') || 'an unnamed adapter';
  return a.software ? `${name} (software adapter)` : name;
}

/** Short form for the status bar: "webgpu", "webgpu (software)", "wasm". */
export function backendLabel(b: BackendReport): string {
  return b.adapter?.software ? `${b.name} (software)` : b.name;
}
