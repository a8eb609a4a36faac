// The side panel beside the scatter: an Images tab and a Training tab. A training that starts
// turns it to the Training view (once per training: a person may turn back to Images meanwhile).

import type { Tab } from './core/viewState';
import { el } from './dom';
import { onTraining } from './trainingView';

export function sideTabs(images: HTMLElement, training: HTMLElement, initial: Tab, selected: (tab: Tab) => void): HTMLElement {
  const tabs = el(
    'vscode-tabs',
    { class: 'side', 'selected-index': initial === 'training' ? 1 : 0 },
    el('vscode-tab-header', { slot: 'header', class: 'tab-images' }, 'Images'),
    el('vscode-tab-panel', {}, images),
    el('vscode-tab-header', { slot: 'header', class: 'tab-training' }, 'Training'),
    el('vscode-tab-panel', {}, training),
  );
  tabs.addEventListener('vsc-tabs-select', (e) => {
    selected((e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex === 1 ? 'training' : 'images');
  });
  let live = false;
  onTraining(tabs, (c) => {
    if (c.live && !live) {
      (tabs as HTMLElement & { selectedIndex: number }).selectedIndex = 1;
      selected('training');
    }
    live = c.live;
  });
  return tabs;
}
