// A base that owns what it creates (listeners, panels, emitters) and disposes it all once,
// so nothing outlives the panel or the extension that made it.

import type * as vscode from 'vscode';

export abstract class Disposable {
  private readonly owned: vscode.Disposable[] = [];
  private disposedFlag = false;

  protected get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /** Registers `d` to be disposed with this object, and returns it. */
  protected register<T extends vscode.Disposable>(d: T): T {
    if (this.disposedFlag) d.dispose();
    else this.owned.push(d);
    return d;
  }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    while (this.owned.length) {
      try {
        this.owned.pop()!.dispose();
      } catch {
        // one failing disposal must not keep the others alive
      }
    }
  }
}
