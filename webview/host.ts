// The one door to the extension host: typed posts and the persisted view state.

import type { FromWebviewMessage } from '../src/protocol/webview';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api: VsCodeApi = acquireVsCodeApi();
let nextRequestId = 1;

export const host = {
  post(message: FromWebviewMessage): void {
    api.postMessage(message);
  },
  getState(): unknown {
    return api.getState();
  },
  setState(state: unknown): void {
    api.setState(state);
  },
  /** Request ids are unique across every kind of request this page makes. */
  requestId(): number {
    return nextRequestId++;
  },
};
