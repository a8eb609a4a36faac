// What the explorer shows around a training: the ELBO panel announces when a training starts,
// runs and ends (a bubbling DOM event), the side tabs turn to the Training view when one starts,
// and the empty map says what it is waiting for instead of asking for what happens by itself.

import type { TrainingState } from '../src/protocol/webview';
import { el } from './dom';

/** Dispatched by the ELBO panel's root, bubbling, whenever the training's state or run changes. */
export const TRAINING_EVENT = 'latent-atlas-training';

export interface TrainingChange {
  state: TrainingState | null;
  runName: string;
  /** A training is starting or running. */
  live: boolean;
}

export function announceTraining(from: HTMLElement, change: TrainingChange): void {
  from.dispatchEvent(new CustomEvent<TrainingChange>(TRAINING_EVENT, { bubbles: true, detail: change }));
}

export function onTraining(target: EventTarget, listener: (change: TrainingChange) => void): void {
  target.addEventListener(TRAINING_EVENT, (e) => listener((e as CustomEvent<TrainingChange>).detail));
}

const IDLE = 'No points yet. Run “VAE: Encode Image Folder” to see a folder in latent space.';

/**
 * The text over an empty map. While a run trains (and once it has trained here) its points are
 * still to come — the host encodes the training folder by itself — so it asks for nothing.
 */
export function emptyMapNotice(): HTMLElement {
  const p = el('p', { class: 'empty', 'data-empty': 'idle' }, IDLE);
  let trainedHere = false;
  onTraining(document, (c) => {
    if (c.live) trainedHere = true;
    else if (c.state === null) trainedHere = false;
    const name = c.runName ? `“${c.runName}”` : 'The model';
    if (c.live) {
      p.textContent = `${name} is training: follow it in the Training view. The map of its latent space is drawn here when its points arrive.`;
      p.dataset.empty = 'training';
    } else if (trainedHere && c.state === 'complete') {
      p.textContent = `${name} is trained. The map of its latent space is drawn here when its points arrive.`;
      p.dataset.empty = 'trained';
    } else {
      p.textContent = IDLE;
      p.dataset.empty = 'idle';
    }
  });
  return p;
}
