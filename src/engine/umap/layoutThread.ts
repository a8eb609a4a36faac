// The second thread of a UMAP (see umap.ts and sgd.ts): it answers half the queries of an exact
// neighbour graph into shared arrays, then is handed the layout's shared arrays and its share of
// the edges, runs the epochs it is asked for and says when each request is done.

import { parentPort } from 'node:worker_threads';
import { knnPart, type KnnGraph } from './knn';
import { runEpochs, type LayoutArrays, type Share } from './sgd';

export type HelperRequest =
  { knn: { points: Float32Array; dims: number; graph: KnnGraph; share: { part: number; parts: number } } } | { from: number; to: number };

type Message = HelperRequest | { arrays: LayoutArrays; share: Share; state: number };

let arrays: LayoutArrays | undefined;
let share: Share = { start: 0, end: 0, lo: 0, hi: 0 };
let state = 1;

parentPort?.on('message', (m: Message) => {
  if ('arrays' in m) {
    arrays = m.arrays;
    share = m.share;
    state = m.state;
    return;
  }
  if ('knn' in m) {
    void knnPart(m.knn.points, m.knn.dims, m.knn.graph, m.knn.share).then(() => parentPort!.postMessage('done'));
    return;
  }
  state = runEpochs(arrays!, m.from, m.to, share, state);
  parentPort!.postMessage('done');
});
