// Embedding Projector export (projector.tensorflow.org / TensorBoard): vectors.tsv holds one
// row of tab-separated numbers per point, metadata.tsv a header row then one row per point.

import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Encoding } from '../protocol/engine';

export interface ProjectorTables {
  vectors: string;
  metadata: string;
}

/** Tab, newline and carriage return would break a TSV cell. */
function cell(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ');
}

export function projectorTables(encoding: Pick<Encoding, 'folder' | 'files' | 'labels' | 'labelNames' | 'dims' | 'mu'>): ProjectorTables {
  const { files, dims, mu } = encoding;
  const vectors: string[] = [];
  const metadata: string[] = ['file\tlabel'];
  for (let i = 0; i < files.length; i++) {
    const row: string[] = [];
    for (let d = 0; d < dims; d++) row.push(String(mu[i * dims + d]));
    vectors.push(row.join('\t'));
    const label = encoding.labels[i] >= 0 ? (encoding.labelNames[encoding.labels[i]] ?? '') : '';
    metadata.push(`${cell(relative(encoding.folder, files[i]) || files[i])}\t${cell(label)}`);
  }
  return { vectors: vectors.join('\n') + '\n', metadata: metadata.join('\n') + '\n' };
}

/** Writes vectors.tsv and metadata.tsv into `dir`; returns their paths. */
export async function writeProjectorFiles(encoding: Encoding, dir: string): Promise<[string, string]> {
  const tables = projectorTables(encoding);
  await mkdir(dir, { recursive: true });
  const vectorsPath = join(dir, 'vectors.tsv');
  const metadataPath = join(dir, 'metadata.tsv');
  await writeFile(vectorsPath, tables.vectors);
  await writeFile(metadataPath, tables.metadata);
  return [vectorsPath, metadataPath];
}
