// The WebGPU rung of the backend ladder: @tensorflow/tfjs-backend-webgpu on Dawn's Node binding
// (the npm package `webgpu`: Vulkan on Linux, Metal on macOS, D3D12 on Windows, any GPU vendor).
//
// Node 20 has no `navigator` and none of the GPU* constants the backend reads (GPUBufferUsage,
// GPUMapMode, …). They are installed here, in the engine worker process only, never in the
// extension host. The adapter is chosen here, not by tfjs' own factory, so `auto` can pass over a
// software adapter (llvmpipe/lavapipe, SwiftShader, WARP): on a CPU those are slower than wasm.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { GpuAdapterReport } from '../../protocol/model';
import type { Tf } from '../tf';

/** What an adapter says about itself (GPUAdapterInfo), as far as choosing one needs it. */
export interface AdapterDescription {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

// Names that software rasterisers give themselves in vendor, architecture, device or description.
const SOFTWARE_NAMES = /\b(llvmpipe|lavapipe|softpipe|swiftshader|software|microsoft basic render|warp)\b/i;

/**
 * Why this adapter is a software one (it renders on the CPU), or null for a hardware GPU.
 * Dawn marks llvmpipe `isFallbackAdapter`; others only say it in their names.
 */
export function softwareAdapterReason(info: AdapterDescription): string | null {
  const name = adapterName(info);
  if (info.isFallbackAdapter) return `the WebGPU adapter is a software fallback (${name}), which is slower than WebAssembly on the CPU`;
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  if (SOFTWARE_NAMES.test(text)) return `the WebGPU adapter renders in software (${name}), which is slower than WebAssembly on the CPU`;
  return null;
}

/** A short human name for an adapter: its description, else vendor and architecture. */
export function adapterName(info: AdapterDescription): string {
  const parts = info.description?.trim() || [info.vendor, info.architecture, info.device].filter(Boolean).join(' ');
  return parts || 'an unnamed adapter';
}

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

/** The folder name Dawn's npm package uses for this platform's binary. */
export function dawnPlatformFolder(platform = process.platform, arch = process.arch): string {
  return platform === 'darwin' ? 'darwin-universal' : `${platform}-${arch}`;
}

/**
 * dawn.node for this platform: next to the bundle (dist/webgpu/<platform>/, copied by the build),
 * else in node_modules/webgpu (running from source).
 */
export function dawnBinaryPath(): string {
  const folder = dawnPlatformFolder();
  const bundled = path.join(__dirname, 'webgpu', folder, 'dawn.node');
  if (existsSync(bundled)) return bundled;
  try {
    const fromPackage = path.join(path.dirname(require.resolve('webgpu/package.json')), 'dist', folder, 'dawn.node');
    if (existsSync(fromPackage)) return fromPackage;
  } catch {
    // not installed: the error below says what to do
  }
  throw new Error(
    `Dawn (the WebGPU runtime) has no binary for ${process.platform}-${process.arch} in this installation (looked in ${path.dirname(bundled)}). The npm package \`webgpu\` ships Linux x64/arm64, macOS and Windows x64/arm64.`,
  );
}

let gpu: GPU | undefined;

/** Loads Dawn once and makes `navigator.gpu` and the GPU* constants available to tfjs. */
function loadDawn(): GPU {
  if (gpu) return gpu;
  const dawn = createRequire(__filename)(dawnBinaryPath()) as DawnModule;
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  const created = dawn.create([]);
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu: created }, configurable: true, writable: true });
  else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: created, configurable: true });
  gpu = created;
  return created;
}

/** Every adapter Dawn offers for the power preferences (deduplicated), for listings and benchmarks. */
export async function listAdapters(): Promise<GpuAdapterReport[]> {
  const g = loadDawn();
  const seen = new Map<string, GpuAdapterReport>();
  for (const options of [
    { powerPreference: 'high-performance' },
    { powerPreference: 'low-power' },
    { forceFallbackAdapter: true },
  ] as GPURequestAdapterOptions[]) {
    const adapter = await g.requestAdapter(options);
    if (!adapter) continue;
    const report = describeAdapter(adapter);
    seen.set(`${report.vendor}|${report.architecture}|${report.device}|${report.description}`, report);
  }
  return [...seen.values()];
}

function describeAdapter(adapter: GPUAdapter): GpuAdapterReport {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const described: AdapterDescription = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: info.isFallbackAdapter,
  };
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    software: softwareAdapterReason(described) !== null,
    limits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    },
  };
}

const PROBE_TIMEOUT_MS = 20_000;

/** The high-performance adapter's info as a child process sees it; rejects in plain words. */
export function probeAdapter(): Promise<AdapterDescription> {
  const binary = dawnBinaryPath();
  const script = `const { create } = require(${JSON.stringify(binary)});
create([]).requestAdapter({ powerPreference: 'high-performance' }).then((a) => {
  const i = a && a.info;
  process.stdout.write(JSON.stringify(i ? { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: i.isFallbackAdapter } : null));
  process.exit(0);
}, (e) => { process.stderr.write(String(e && e.message || e)); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    // ELECTRON_RUN_AS_NODE: inside VS Code, process.execPath is Electron's binary.
    const env = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
    execFile(process.execPath, ['-e', script], { env, timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const how = err.killed
          ? `did not answer within ${PROBE_TIMEOUT_MS / 1000} s`
          : err.signal
            ? `crashed (${err.signal})`
            : `failed (${lastLine(stderr) || err.message})`;
        reject(new Error(`probing the GPU through Dawn ${how}; check the GPU driver`));
        return;
      }
      const info = JSON.parse(stdout || 'null') as AdapterDescription | null;
      if (!info) reject(new Error(NO_ADAPTER));
      else resolve(info);
    });
  });
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('Warning:'));
  return lines[lines.length - 1] ?? '';
}

const NO_ADAPTER =
  'no WebGPU adapter was found: Dawn needs a GPU driver with Vulkan (Linux; e.g. Debian/Ubuntu `mesa-vulkan-drivers` for AMD and Intel, the NVIDIA driver for NVIDIA), Metal (macOS) or Direct3D 12 (Windows)';

export interface WebGpuLoaded {
  tf: Tf;
  adapter: GpuAdapterReport;
}

type LostListener = (message: string) => void;
const lostListeners: LostListener[] = [];

/**
 * Called with a plain-words message when the GPU device is lost mid-run (driver reset, GPU
 * removed, out of memory on the device). The worker then fails what is running and exits, so the
 * next request gets a fresh worker and the run keeps its last checkpoint.
 */
export function onDeviceLost(listener: LostListener): void {
  lostListeners.push(listener);
}

/**
 * Starts tfjs on WebGPU. `acceptSoftware` false (auto) refuses a software adapter with the
 * reason; true (the backend was asked for by name) uses whatever adapter there is.
 */
export async function loadWebGpu(acceptSoftware: boolean): Promise<WebGpuLoaded> {
  if (!acceptSoftware) {
    // In auto, look at the adapter from a short-lived process first: a GPU driver that crashes
    // while probed then costs the WebGPU rung, not the engine worker at every start.
    const probed = await probeAdapter();
    const reason = softwareAdapterReason(probed);
    if (reason) throw new Error(`${reason}. Set the backend to 'webgpu' to use it anyway.`);
  }
  const g = loadDawn();
  const adapter = await g.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(`${NO_ADAPTER}.`);
  const report = describeAdapter(adapter);
  if (!acceptSoftware) {
    const reason = softwareAdapterReason(adapter.info as AdapterDescription);
    if (reason) throw new Error(`${reason}. Set the backend to 'webgpu' to use it anyway.`);
  }
  // The limits tfjs' own factory asks for: large buffers and the full workgroup sizes.
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  let lastError = '';
  device.addEventListener('uncapturederror', (event) => {
    lastError = (event as GPUUncapturedErrorEvent).error.message;
  });
  // The engine never destroys its device, so any loss, 'destroyed' included, is unexpected.
  void device.lost.then((info) => {
    const detail = [info.message, lastError].filter(Boolean).join('; ');
    const message = `The GPU (${adapterName(report)}) stopped responding${detail ? ` (${detail})` : ''}. The engine restarts with the next command; a training keeps its last checkpoint and can be resumed.`;
    for (const listener of lostListeners) listener(message);
  });

  const tf = await import('@tensorflow/tfjs');
  const webgpu = await import('@tensorflow/tfjs-backend-webgpu');
  // Importing the package registered a factory that picks its own adapter; use the one chosen here.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new webgpu.WebGPUBackend(device, adapter.info), 3);
  if (!(await tf.setBackend('webgpu'))) throw new Error(`the WebGPU backend did not initialise on ${adapterName(report)}.`);
  await tf.ready();
  const check = tf.add(tf.scalar(1), tf.scalar(1));
  const value = (await check.data())[0];
  check.dispose();
  if (value !== 2) throw new Error(`the WebGPU backend on ${adapterName(report)} computed 1 + 1 = ${value}.`);
  return { tf, adapter: report };
}
