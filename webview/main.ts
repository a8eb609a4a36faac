// Entry of the Latent Explorer webview bundle (dist/webview.js, styles in dist/webview.css).

import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import './explorer.css';
import { Explorer } from './explorer';

const root = document.getElementById('app');
if (!root) throw new Error('Latent Explorer: the page has no #app element; render it with src/host/webviewHtml.ts');
new Explorer(root);
