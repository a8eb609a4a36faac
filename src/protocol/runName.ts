// What may name a run folder: one folder name, the same on Linux, macOS and Windows, that cannot
// lead out of the folder it is created in. Shared by the run store, the extension and the CLI.

/** The manifest of a run, in its folder: a folder holding it is a run. */
export const RUN_FILE = 'run.json';

/** Longest run name in bytes (UTF-8): the limit of a folder name on common file systems. */
const MAX_NAME_BYTES = 255;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
export const RUN_NAME_RULE =
  'a run name is one folder name: letters, digits, spaces, "-", "_" and "." are fine, but it must not start with "." ' +
  'or end with "." or a space, nor contain "/", "\\", "..", or any of < > : " | ? *';

/** Why `name` cannot name a run folder, or undefined when it can. */
export function runNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'it is empty';
  if (/[/\\]/.test(name)) return 'it contains a path separator';
  if (name.includes('..')) return 'it contains ".."';
  if (name.startsWith('.')) return 'it starts with "."';
  // Windows silently drops trailing dots and spaces, and refuses these characters and device names.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[<>:"|?*\x00-\x1f\x7f]/.test(name)) return 'it contains a character that is not allowed in file names';
  if (/^\s|[.\s]$/.test(name)) return 'it starts with a space or ends with "." or a space';
  if (WINDOWS_RESERVED.test(name)) return `"${name}" is a reserved device name on Windows`;
  if (new TextEncoder().encode(name).length > MAX_NAME_BYTES) return `it is longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/** What to tell a person who chose `name` for a run in `parent`, or undefined when it can be used. */
export function runNameMessage(name: string, parent: string): string | undefined {
  const problem = runNameProblem(name);
  return problem && `The run name "${name}" cannot be used: ${problem}; ${RUN_NAME_RULE} (the run is saved in ${parent}).`;
}
