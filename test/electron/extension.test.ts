// The end-to-end flows of test/e2e through the VS Code API, for machines that can download a
// VS Code build (`npm run test:electron`, with `xvfb-run -a` on a headless Linux). Mocha (tdd)
// runs it inside the extension host of a real VS Code with the extension under development.
// Developer: Reload Window cannot run here (it would end the test host); test/e2e covers it.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RunManifest } from '../../src/protocol/model';

declare function suite(name: string, body: () => void): void;
declare function test(name: string, body: () => Promise<void>): void;
declare function suiteSetup(body: () => Promise<void>): void;

const workspace = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
const manifest = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunManifest;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

suite('Latent Atlas in VS Code', () => {
  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension('latent-atlas.latent-atlas');
    assert.ok(ext, 'the extension is installed');
    const cfg = vscode.workspace.getConfiguration('vae');
    await cfg.update('epochs', 3, vscode.ConfigurationTarget.Workspace);
    await cfg.update('batchSize', 32, vscode.ConfigurationTarget.Workspace);
  });

  test('activation registers every command without loading TensorFlow.js', async () => {
    const ext = vscode.extensions.getExtension('latent-atlas.latent-atlas')!;
    await ext.activate();
    const commands = await vscode.commands.getCommands(true);
    for (const id of [
      'vae.train',
      'vae.stopTraining',
      'vae.loadModel',
      'vae.encodeFolder',
      'vae.openExplorer',
      'vae.sample',
      'vae.exportProjector',
    ]) {
      assert.ok(commands.includes(id), `${id} is registered`);
    }
    const bundle = readFileSync(join(ext.extensionPath, 'dist', 'extension.js'), 'utf8');
    assert.ok(!bundle.includes('@tensorflow/tfjs-core'), 'extension.js does not bundle TensorFlow.js');
  });

  test('VAE: Train on a folder produces a loadable run', async () => {
    await vscode.commands.executeCommand('vae.train', vscode.Uri.file(workspace()), { name: 'fashion' });
    const runDir = join(workspace(), '.vae', 'fashion');
    const m = manifest(runDir);
    assert.equal(m.state, 'complete');
    assert.equal(m.epochsCompleted, 3);
    assert.ok(m.checkpoint && existsSync(join(runDir, m.checkpoint)));
    assert.ok(m.last && m.last.train.elbo > -1e6);
  });

  test('VAE: Encode Image Folder encodes the folder with the active model', async () => {
    await vscode.commands.executeCommand('vae.encodeFolder', vscode.Uri.file(join(workspace(), 'Trouser')));
    const encodings = join(workspace(), '.vae', 'fashion', 'encodings');
    assert.ok(existsSync(encodings) && readdirSync(encodings).length > 0, 'an encoding was stored in the run');
  });

  test('VAE: Sample into Workspace writes the requested number of PNG files', async () => {
    await vscode.commands.executeCommand('vae.sample', undefined, { count: 5 });
    const dir = join(workspace(), 'samples', 'fashion');
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.png')).length, 5);
  });

  test('VAE: Stop Training mid-run leaves a loadable run', async () => {
    await vscode.workspace.getConfiguration('vae').update('epochs', 500, vscode.ConfigurationTarget.Workspace);
    const training = vscode.commands.executeCommand('vae.train', vscode.Uri.file(workspace()), { name: 'long' });
    const runDir = join(workspace(), '.vae', 'long');
    for (let i = 0; i < 600 && !(existsSync(join(runDir, 'run.json')) && manifest(runDir).epochsCompleted >= 1); i++) await sleep(200);
    await vscode.commands.executeCommand('vae.stopTraining');
    await training;
    const m = manifest(runDir);
    assert.equal(m.state, 'cancelled');
    assert.ok(m.epochsCompleted >= 1 && m.epochsCompleted < 500);
    assert.ok(m.checkpoint && existsSync(join(runDir, m.checkpoint)));
  });
});
