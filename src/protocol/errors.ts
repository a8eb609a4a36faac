// The one error type of Latent Atlas: a code a program can act on and a message a person can.
// The engine throws it, the worker sends its code and message as a failure, the client rejects
// with it again; the CLI maps codes to exit codes and the extension to its messages, each in one
// place (src/cli.ts, src/host/feedback.ts).

import type { EngineErrorCode } from './engine';

/** The engine's failure codes, and the client's own for a worker that died. */
export type ErrorCode = EngineErrorCode | 'worker-crashed';

export class EngineError extends Error {
  constructor(
    readonly code: ErrorCode,
    /** Plain words: what went wrong, which file, what to do. */
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}
