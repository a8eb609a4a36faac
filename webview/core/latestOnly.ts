// Requests that must not flood the engine (the decoded manifold): at most one in flight, and
// while one is out only the newest wish is kept. A reply is worth drawing only when no newer
// wish is waiting. A request that gets no answer within `timeoutMs` gives its slot up, so one
// lost reply cannot block every later refresh.

export interface LatestOnlyOptions {
  /** How long a request may stay unanswered before the next one may go (default 15 s). */
  timeoutMs?: number;
  /** Told when a request is given up on. */
  onTimeout?: (id: number) => void;
}

export class LatestOnly<T> {
  private inFlight: number | null = null;
  private pending: T | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly timeoutMs: number;

  constructor(
    private readonly send: (id: number, payload: T) => void,
    /** Request ids are shared with the webview's other requests, so they come from outside. */
    private readonly allocateId: () => number,
    private readonly options: LatestOnlyOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

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
    return !this.release();
  }

  get busy(): boolean {
    return this.inFlight !== null;
  }

  cancelPending(): void {
    this.pending = null;
  }

  /** Frees the slot and sends the waiting wish, if any; returns whether one was sent. */
  private release(): boolean {
    clearTimeout(this.timer);
    this.inFlight = null;
    const next = this.pending;
    this.pending = null;
    if (next === null) return false;
    this.dispatch(next);
    return true;
  }

  private dispatch(payload: T): void {
    const id = this.allocateId();
    this.inFlight = id;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.inFlight !== id) return;
      this.options.onTimeout?.(id);
      this.release();
    }, this.timeoutMs);
    this.send(id, payload);
  }
}
