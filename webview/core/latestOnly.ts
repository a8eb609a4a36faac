// Requests that must not flood the engine (the decoded manifold): at most one in flight, and
// while one is out only the newest wish is kept. A reply is worth drawing only when no newer
// wish is waiting.

export class LatestOnly<T> {
  private inFlight: number | null = null;
  private pending: T | null = null;

  constructor(
    private readonly send: (id: number, payload: T) => void,
    /** Request ids are shared with the webview's other requests, so they come from outside. */
    private readonly allocateId: () => number,
  ) {}

  /** Ask for `payload`; sent now if nothing is in flight, otherwise it replaces the waiting one. */
  request(payload: T): void {
    if (this.inFlight === null) this.dispatch(payload);
    else this.pending = payload;
  }

  /** Whether `id` is the request in flight (replies to anything else are ignored). */
  owns(id: number): boolean {
    return this.inFlight === id;
  }

  /** Call with every reply or failure of an owned id; returns true when the reply should be drawn. */
  settle(id: number): boolean {
    if (this.inFlight !== id) return false;
    this.inFlight = null;
    const next = this.pending;
    this.pending = null;
    if (next !== null) {
      this.dispatch(next);
      return false;
    }
    return true;
  }

  get busy(): boolean {
    return this.inFlight !== null;
  }

  cancelPending(): void {
    this.pending = null;
  }

  private dispatch(payload: T): void {
    const id = this.allocateId();
    this.inFlight = id;
    this.send(id, payload);
  }
}
