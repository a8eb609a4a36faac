// The Latent Explorer's HTML. Pure (no 'vscode' import) so the browser tests render the very
// page the panel shows, with the same Content-Security-Policy.

export interface WebviewHtmlOptions {
  /** Webview URI of dist/webview.js. */
  scriptUri: string;
  /** Webview URI of dist/webview.css. */
  styleUri: string;
  /** `webview.cspSource`: where images, styles and fonts may come from. */
  cspSource: string;
  /** A fresh random nonce per render (letters and digits). */
  nonce: string;
  /** Webview URI of @vscode/codicons' codicon.css, when the panel ships it. */
  codiconsUri?: string;
}

export function webviewHtml(o: WebviewHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(o.nonce)) {
    throw new Error(
      'webviewHtml: the nonce must be at least 16 letters or digits; make one with crypto.randomBytes(16).toString("base64")',
    );
  }
  const csp = [
    `default-src 'none'`,
    `img-src ${o.cspSource} data: blob:`,
    `style-src ${o.cspSource} 'nonce-${o.nonce}'`,
    `script-src 'nonce-${o.nonce}'`,
    `font-src ${o.cspSource}`,
  ].join('; ');
  const codicons = o.codiconsUri
    ? `\n  <link id="vscode-codicon-stylesheet" rel="stylesheet" nonce="${o.nonce}" href="${attr(o.codiconsUri)}">`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>Latent Explorer</title>
  <link rel="stylesheet" nonce="${o.nonce}" href="${attr(o.styleUri)}">${codicons}
</head>
<body>
  <div id="app" class="app" aria-busy="true"></div>
  <script nonce="${o.nonce}" src="${attr(o.scriptUri)}"></script>
</body>
</html>
`;
}

function attr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
