// The protocol is the only way into the engine: the CLI (src/cli*.ts) and the extension host
// (src/host/**) never import src/engine, the client (src/client/**) imports neither the engine nor
// vscode, and the bundles built from them carry no engine code, no sharp and no TensorFlow.js.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as esbuild from 'esbuild';
import { describe, test } from 'node:test';
import { REPO } from './worker-fixtures';

const ENGINE = join(REPO, 'src', 'engine');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

/** Module specifiers of a file's import / export-from lines, require() and import() calls. */
function importsOf(source: string): string[] {
  const pattern =
    /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...source.matchAll(pattern)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

const isUnder = (path: string, dir: string) => path === dir || path.startsWith(dir + sep);

/** The imports in `source` (of `file`) that reach into src/engine, relative paths resolved from the file. */
function engineImports(file: string, source = readFileSync(file, 'utf8')): string[] {
  return importsOf(source).filter((spec) => spec.startsWith('.') && isUnder(resolve(dirname(file), spec), ENGINE));
}

const CLI_FILES = readdirSync(join(REPO, 'src'))
  .filter((f) => /^cli.*\.ts$/.test(f))
  .map((f) => join(REPO, 'src', f));
const HOST_FILES = tsFiles(join(REPO, 'src', 'host'));
const CLIENT_FILES = tsFiles(join(REPO, 'src', 'client'));

describe('one door into the engine', () => {
  test('the import reader sees every form of import', () => {
    const source = `import { a } from '../engine/x';\nimport type {\n  B,\n} from "./engine/y";\nexport * from '../engine/z';\nimport '../engine/side';\nconst s = require('sharp');\nvoid import('vscode');`;
    assert.deepEqual(importsOf(source), ['../engine/x', './engine/y', '../engine/z', '../engine/side', 'sharp', 'vscode']);
    const hostFile = join(REPO, 'src', 'host', 'commands', 'x.ts');
    const host = `import { a } from '../../engine/data';\nimport type { R } from '../../protocol/engine';\nimport { C } from '../../client/engineClient';`;
    assert.deepEqual(engineImports(hostFile, host), ['../../engine/data']);
    assert.deepEqual(engineImports(join(REPO, 'src', 'cli.ts'), `import { w } from './engine';\nimport { r } from './protocol/engine';`), [
      './engine',
    ]);
  });

  test('src/cli*.ts and src/host/** import nothing from src/engine (only the protocol and the client)', () => {
    assert.ok(CLI_FILES.length >= 2 && HOST_FILES.length >= 5, 'the files to check were found');
    const wrong = [...CLI_FILES, ...HOST_FILES].flatMap((f) => engineImports(f).map((spec) => `${relative(REPO, f)}: ${spec}`));
    assert.deepEqual(wrong, [], `these go around the protocol:\n${wrong.join('\n')}`);
  });

  test('src/client/** is Node-only: no vscode, no engine', () => {
    assert.ok(
      CLIENT_FILES.some((f) => f.endsWith('engineClient.ts')),
      'the engine client lives in src/client',
    );
    const wrong = CLIENT_FILES.flatMap((f) =>
      importsOf(readFileSync(f, 'utf8'))
        .filter((spec) => spec === 'vscode' || (spec.startsWith('.') && isUnder(resolve(dirname(f), spec), ENGINE)))
        .map((spec) => `${relative(REPO, f)}: ${spec}`),
    );
    assert.deepEqual(wrong, []);
  });

  test('the CLI and extension bundles hold no engine code, no sharp and no TensorFlow.js', async () => {
    // Built as esbuild.mjs builds them (sharp and the native backends external), in memory.
    for (const entry of ['src/cli.ts', 'src/extension.ts']) {
      const result = await esbuild.build({
        entryPoints: [join(REPO, entry)],
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        write: false,
        metafile: true,
        logLevel: 'silent',
        external: ['vscode', 'sharp', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
      });
      const inputs = Object.keys(result.metafile.inputs);
      const engine = inputs.filter((p) =>
        p
          .split('/')
          .join(sep)
          .includes(join('src', 'engine') + sep),
      );
      assert.deepEqual(engine, [], `${entry} bundles engine modules`);
      const heavy = inputs.filter((p) => /node_modules\/(@tensorflow|sharp|onnxruntime|webgpu)\//.test(p));
      assert.deepEqual(heavy, [], `${entry} bundles heavy engine packages`);
      const text = result.outputFiles[0]!.text;
      assert.doesNotMatch(text, /require\(["']sharp["']\)/, `${entry} requires sharp`);
      assert.doesNotMatch(text, /require\(["']@tensorflow\//, `${entry} requires TensorFlow.js`);
      assert.ok(text.length < 300_000, `${entry} is small (${text.length} bytes): it only speaks the protocol`);
    }
  });
});
