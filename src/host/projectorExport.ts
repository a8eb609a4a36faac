// Embedding Projector export (TensorBoard's Projector tab, projector.tensorflow.org): vectors.tsv
// holds one row of tab-separated numbers per point, metadata.tsv a header row then one row per
// point, sprite.png (written by the engine) a thumbnail per point; projector_config.pbtxt (what
// TensorBoard reads in its log folder) and projector_config.json (the standalone Projector's
// ?config=) name the three. Pure Node, no 'vscode': unit-tested directly.

import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { Encoding, SpriteResult } from '../protocol/engine';
import { sanitizeRunName } from './runs';

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

/** One embedding of a projector config; paths relative to the config's folder, with '/'. */
export interface ProjectorEmbedding {
  tensorName: string;
  /** Points × dimensions. */
  tensorShape: [number, number];
  tensorPath: string;
  metadataPath: string;
  sprite?: { imagePath: string; width: number; height: number };
}

/** The embedding of an encoding exported into `sub` ('' for the config's own folder). */
export function projectorEmbedding(
  encoding: Pick<Encoding, 'folder' | 'files' | 'dims'>,
  sub: string,
  sprite?: SpriteResult,
): ProjectorEmbedding {
  const at = (file: string) => (sub ? `${sub}/${file}` : file);
  return {
    tensorName: basename(encoding.folder) || encoding.folder,
    tensorShape: [encoding.files.length, encoding.dims],
    tensorPath: at('vectors.tsv'),
    metadataPath: at('metadata.tsv'),
    ...(sprite ? { sprite: { imagePath: at('sprite.png'), width: sprite.width, height: sprite.height } } : {}),
  };
}

/**
 * projector_config.pbtxt in protobuf text format (TensorBoard's projector_config.proto). The
 * tensor shape is left out: TensorBoard reads it from the TSV file.
 */
export function projectorConfigPbtxt(embeddings: ProjectorEmbedding[]): string {
  const text = (s: string) => JSON.stringify(s);
  return embeddings
    .map((e) => {
      const lines = [
        'embeddings {',
        `  tensor_name: ${text(e.tensorName)}`,
        `  tensor_path: ${text(e.tensorPath)}`,
        `  metadata_path: ${text(e.metadataPath)}`,
      ];
      if (e.sprite) {
        lines.push('  sprite {', `    image_path: ${text(e.sprite.imagePath)}`);
        lines.push(`    single_image_dim: ${e.sprite.width}`, `    single_image_dim: ${e.sprite.height}`, '  }');
      }
      return [...lines, '}'].join('\n');
    })
    .join('\n')
    .concat('\n');
}

/** projector_config.json, the same config in the standalone Projector's JSON form. */
export function projectorConfigJson(embeddings: ProjectorEmbedding[]): string {
  const json = embeddings.map((e) => ({
    tensorName: e.tensorName,
    tensorShape: e.tensorShape,
    tensorPath: e.tensorPath,
    metadataPath: e.metadataPath,
    ...(e.sprite ? { sprite: { imagePath: e.sprite.imagePath, singleImageDim: [e.sprite.width, e.sprite.height] } } : {}),
  }));
  return JSON.stringify({ embeddings: json }, null, 2) + '\n';
}

/** Writes both configs into `dir`; returns the .pbtxt's path. */
export async function writeProjectorConfig(dir: string, embeddings: ProjectorEmbedding[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const pbtxt = join(dir, 'projector_config.pbtxt');
  await writeFile(pbtxt, projectorConfigPbtxt(embeddings));
  await writeFile(join(dir, 'projector_config.json'), projectorConfigJson(embeddings));
  return pbtxt;
}

/** A sub-folder name per encoded folder: its own name made safe, numbered when two share one. */
export function projectorFolderNames(folders: string[]): string[] {
  const used = new Set<string>();
  return folders.map((folder) => {
    const base = sanitizeRunName(basename(folder)) || 'folder';
    let name = base;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base}-${n}`;
    used.add(name.toLowerCase());
    return name;
  });
}
