// A second thread of the UMAP layout (see sgd.ts): it is handed the shared arrays once, then runs
// the epochs it is asked for over its own edges and says when it is done.

import { parentPort } from 'node:worker_threads';
import { runEpochs, type LayoutArrays } from './sgd';

type Message = { arrays: LayoutArrays; start: number; end: number; state: number } | { from: number; to: number };

let arrays: LayoutArrays | undefined;
let range = { start: 0, end: 0 };
let state = 1;

parentPort?.on('message', (m: Message) => {
  if ('arrays' in m) {
    arrays = m.arrays;
    range = { start: m.start, end: m.end };
    state = m.state;
    return;
  }
  state = runEpochs(arrays!, m.from, m.to, range.start, range.end, state);
  parentPort!.postMessage('done');
});
