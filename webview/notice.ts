// One short message over the corner of the scatter, never in the layout's flow (a long one must
// not push the plot down or wrap the toolbar). Successes and hints fade by themselves; an error
// stays until it is closed or replaced.

import { el } from './dom';

export type NoticeKind = 'success' | 'info' | 'error';

export interface NoticeAction {
  label: string;
  run(): void;
}

/** How long a success or a hint stays before it fades. */
export const NOTICE_MS = 6000;
const FADE_MS = 400;

export class Notice {
  readonly root = el('div', { class: 'notice', hidden: true });
  private readonly text = el('span', { class: 'notice-text' });
  private readonly actions = el('span', { class: 'notice-actions' });
  private timer = 0;

  constructor() {
    const close = el('button', { class: 'notice-close', title: 'Dismiss', 'aria-label': 'Dismiss' }, '×');
    close.addEventListener('click', () => this.hide());
    this.root.append(el('span', { class: 'notice-icon', 'aria-hidden': 'true' }), this.text, this.actions, close);
    // Under the pointer it waits: a person reaching for its button must not see it go.
    this.root.addEventListener('pointerenter', () => {
      if (this.root.dataset.kind === 'error') return;
      clearTimeout(this.timer);
      this.root.classList.remove('fading');
    });
    this.root.addEventListener('pointerleave', () => {
      if (this.root.dataset.kind !== 'error' && !this.root.hidden) this.timer = window.setTimeout(() => this.fade(), NOTICE_MS / 2);
    });
  }

  show(kind: NoticeKind, text: string, action?: NoticeAction): void {
    clearTimeout(this.timer);
    this.root.dataset.kind = kind;
    // An error interrupts a screen reader; the rest waits its turn.
    this.root.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    this.root.classList.remove('fading');
    this.text.textContent = text;
    this.actions.replaceChildren();
    if (action) {
      const b = el('vscode-button', { class: 'notice-action', secondary: true }, action.label);
      b.addEventListener('click', () => action.run());
      this.actions.append(b);
    }
    this.root.hidden = false;
    if (kind !== 'error') this.timer = window.setTimeout(() => this.fade(), NOTICE_MS);
  }

  hide(): void {
    clearTimeout(this.timer);
    this.root.classList.remove('fading');
    this.root.hidden = true;
  }

  private fade(): void {
    this.root.classList.add('fading');
    this.timer = window.setTimeout(() => this.hide(), FADE_MS);
  }
}
