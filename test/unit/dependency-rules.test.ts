// Who may import whom (CONTRIBUTING.md, "The map"): the webview only the protocol, the engine
// never the host, client or CLI (nor vscode), the protocol nothing of ours, the CLI and the host
// only the protocol and the client. Read from every source file's import and require lines.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(__dirname, '../..');

type Place = 'protocol' | 'engine' | 'client' | 'host' | 'cli' | 'webview' | 'extension';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

function placeOf(file: string): Place | null {
  const rel = path.relative(ROOT, file).split(path.sep).join('/');
  if (rel.startsWith('webview/')) return 'webview';
  if (rel === 'src/extension.ts') return 'extension';
  if (/^src\/cli[^/]*\.ts$/.test(rel) || rel.startsWith('src/cli/')) return 'cli';
  const m = /^src\/(protocol|engine|client|host)\//.exec(rel);
  return m ? (m[1] as Place) : null;
}

/** Every module specifier a file imports, re-exports, requires or imports dynamically. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const pattern =
    /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(pattern)) found.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return found;
}

const ALLOWED: Record<Place, Place[]> = {
  protocol: ['protocol'],
  engine: ['engine', 'protocol'],
  client: ['client', 'protocol'],
  host: ['host', 'client', 'protocol'],
  cli: ['cli', 'client', 'protocol'],
  webview: ['webview', 'protocol'],
  extension: ['host', 'client', 'protocol'],
};
/** Packages a place must not load: vscode outside the extension host, Node outside Node. */
const FORBIDDEN_PACKAGES: Partial<Record<Place, RegExp>> = {
  engine: /^vscode$/,
  client: /^vscode$/,
  cli: /^vscode$/,
  protocol: /^(vscode|node:.*|@tensorflow\/.*)$/,
  webview: /^(vscode|node:.*|@tensorflow\/.*)$/,
};

describe('dependency rules between the places that run code', () => {
  const files = [...sourceFiles(path.join(ROOT, 'src')), ...sourceFiles(path.join(ROOT, 'webview'))];

  it('finds the places (the rules below have something to check)', () => {
    const places = new Set(files.map(placeOf));
    for (const p of ['protocol', 'engine', 'host', 'webview', 'cli'] as const) assert.ok(places.has(p), `no file found for ${p}`);
  });

  for (const file of files) {
    const from = placeOf(file);
    if (!from) continue;
    const rel = path.relative(ROOT, file);
    it(`${rel} imports only what ${from} may`, () => {
      const wrong: string[] = [];
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) {
          const to = placeOf(path.resolve(path.dirname(file), spec) + (spec.endsWith('.ts') ? '' : '.ts'));
          const target = to ?? placeOf(path.join(path.resolve(path.dirname(file), spec), 'index.ts'));
          if (target && !ALLOWED[from].includes(target)) wrong.push(`${spec} (${target})`);
        } else if (FORBIDDEN_PACKAGES[from]?.test(spec)) {
          wrong.push(spec);
        }
      }
      assert.deepEqual(wrong, [], `${rel} (${from}) must not import ${wrong.join(', ')}`);
    });
  }

  it('catches a forbidden import (the reader itself works)', () => {
    assert.deepEqual(
      specifiers(
        `import { a } from '../engine/model';\nimport type { B } from "./x";\nconst c = require('vscode');\nawait import('../host/y');`,
      ),
      ['../engine/model', './x', 'vscode', '../host/y'],
    );
  });
});
