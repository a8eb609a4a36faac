// A small event emitter typed by an event map: a listener of `name` receives `Events[name]`, so
// call sites need no casts, and a misspelt event name does not compile.

type Listener<T> = (e: T) => void;

export class TypedEmitter<Events> {
  private readonly listeners: { [K in keyof Events]?: Set<Listener<Events[K]>> } = {};

  /** Adds a listener; the function returned removes it. */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    (this.listeners[name] ??= new Set()).add(listener);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    this.listeners[name]?.delete(listener);
  }

  /** Calls the listeners of `name` in the order they were added (a copy: they may remove themselves). */
  emit<K extends keyof Events>(name: K, e: Events[K]): void {
    for (const listener of [...(this.listeners[name] ?? [])]) listener(e);
  }
}
