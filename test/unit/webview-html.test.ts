import assert from 'node:assert/strict';
import { test } from 'node:test';
import { webviewHtml } from '../../src/host/webviewHtml';

const opts = {
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
  styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.css',
  cspSource: 'https://*.vscode-cdn.net',
  nonce: 'abcDEF0123456789xyz',
};

test('the page carries the strict CSP with the nonce on every script and style', () => {
  const html = webviewHtml(opts);
  const csp = /content="([^"]+)"/.exec(html)![1];
  assert.equal(
    csp,
    `default-src 'none'; img-src https://*.vscode-cdn.net data: blob:; style-src https://*.vscode-cdn.net 'nonce-abcDEF0123456789xyz'; script-src 'nonce-abcDEF0123456789xyz'; font-src https://*.vscode-cdn.net`,
  );
  assert.doesNotMatch(html, /unsafe-/);
  assert.match(html, /<script nonce="abcDEF0123456789xyz" src="https:\/\/file\+\.vscode-resource[^"]+webview\.js"><\/script>/);
  assert.match(html, /<link rel="stylesheet" nonce="abcDEF0123456789xyz" href="[^"]+webview\.css">/);
  assert.doesNotMatch(html, /\son[a-z]+=/, 'no inline event handlers');
  assert.doesNotMatch(html, /codicon/);
});

test('codicons are linked when given, and a weak nonce is refused', () => {
  assert.match(
    webviewHtml({ ...opts, codiconsUri: 'https://x/codicon.css' }),
    /id="vscode-codicon-stylesheet"[^>]+href="https:\/\/x\/codicon\.css"/,
  );
  assert.throws(() => webviewHtml({ ...opts, nonce: 'abc' }), /nonce must be at least 16/);
});

test('URIs are escaped into attributes', () => {
  assert.match(webviewHtml({ ...opts, scriptUri: 'https://x/a"b.js' }), /src="https:\/\/x\/a&quot;b\.js"/);
});
