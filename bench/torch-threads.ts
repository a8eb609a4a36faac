// How the PyTorch baselines (bench/conv_torch.py, bench/vae_torch.py) are held to a thread count.

/** How a PyTorch CPU run shares its cores: its own threads (OpenMP) and OpenBLAS's. */
export interface TorchCpuSplit {
  torch: number;
  blas: number;
}

/**
 * The ways PyTorch on the CPU can use `threads` cores: its own threads (OpenMP: convolutions,
 * element-wise work) and OpenBLAS's (the matrix multiplies), which torch.set_num_threads does not
 * set. Left alone, OpenBLAS starts one thread per core, so a "1 thread" run used both cores of the
 * test machine in its matmuls, and a 2-thread run had OpenMP's waiting threads spin beside
 * OpenBLAS's (measured on conv 28×28×1: 1 thread 400–496 images/s with OpenBLAS's default against
 * 301–336 with one OpenBLAS thread; 2 threads 256–305 against 550–597 with one). A row runs each
 * split and keeps the fastest: the strongest baseline using `threads` threads.
 */
export function torchCpuSplits(threads: number): TorchCpuSplit[] {
  if (threads <= 1) return [{ torch: 1, blas: 1 }];
  return [
    { torch: threads, blas: 1 },
    { torch: threads, blas: threads },
    { torch: 1, blas: threads },
  ];
}

export function torchCpuEnv(split: TorchCpuSplit): NodeJS.ProcessEnv {
  return { ...process.env, OMP_NUM_THREADS: String(split.torch), OPENBLAS_NUM_THREADS: String(split.blas) };
}

export const describeSplit = (s: TorchCpuSplit) => `${s.torch} PyTorch + ${s.blas} OpenBLAS thread(s)`;
