// Restricted Mode (an untrusted workspace): the extension loads, explains why training, encoding
// and writing are off, and writes nothing.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensurePackaged, explorerContextMenu, runCommand, startVsCode, waitForNotification, type VsCode } from './codeServer';
import { writeFashionMnist } from './fixtures';

let vs: VsCode;
let root = '';

before(async () => {
  ensurePackaged();
  root = await mkdtemp(join(tmpdir(), 'latent-atlas-untrusted-'));
  await writeFashionMnist(join(root, 'untrusted'), 20);
  vs = await startVsCode({
    workspace: join(root, 'untrusted'),
    name: 'restricted',
    trust: true,
    settings: { 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.untrustedFiles': 'open' },
  });
});

after(async () => {
  await vs?.stop();
  await rm(root, { recursive: true, force: true });
});

test('in Restricted Mode, Train and Encode explain why they are off and write nothing', async () => {
  const { page } = vs;
  await runCommand(page, 'VAE: Train');
  await waitForNotification(page, /Training is disabled in Restricted Mode/, 30_000);
  await explorerContextMenu(page, 'Trouser', 'Encode with the Active VAE');
  await waitForNotification(page, /Encoding a folder is disabled in Restricted Mode/, 30_000);
  await runCommand(page, 'VAE: Sample into Workspace');
  await waitForNotification(page, /Writing samples is disabled in Restricted Mode/, 30_000);
  await vs.shot('refused');
  assert.ok(!existsSync(join(root, 'untrusted', '.vae')), 'no run folder was written');
  assert.ok(!existsSync(join(root, 'untrusted', 'samples')), 'no samples were written');
});
