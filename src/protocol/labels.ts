// Labels are the first-level sub-folders of a training folder. When they cannot be classes (one
// label for everything, a label of one image) the extension and the CLI say so before training,
// in the same words. Shared by the engine (the scan), the host and the CLI.

export interface LabelCount {
  name: string;
  images: number;
}

/** What the first-level sub-folders of a folder hold: the engine's `scanLabels` answer. */
export interface LabelScan {
  folder: string;
  images: number;
  /** Images directly in the folder, outside every sub-folder: they have no label. */
  unlabelled: number;
  /** Sorted by name. */
  labels: LabelCount[];
}

export interface LabelWarning {
  message: string;
  /** A sub-folder to offer training on instead (its name): the only one, or the training split. */
  below?: string;
}

/** Folder names of a train/test split: sub-folders that are not classes. */
const SPLIT_NAMES = new Set(['train', 'training', 'test', 'testing', 'val', 'valid', 'validation', 'dev']);

const quoted = (names: string[]) => names.map((n) => `"${n}"`).join(', ');

/** Why the labels of `scan` will not be classes, or null when they can be (or there are none). */
export function labelWarning(scan: LabelScan): LabelWarning | null {
  const problems: string[] = [];
  let below: string | undefined;
  if (scan.labels.length === 1) {
    const only = scan.labels[0]!;
    below = only.name;
    const all = scan.unlabelled === 0 ? `All ${scan.images} images` : `${only.images} of the ${scan.images} images`;
    problems.push(
      `${all} of ${scan.folder} are in one sub-folder, "${only.name}", so every image gets the same label "${only.name}": ` +
        `sub-folders are read as classes.`,
    );
  }
  const names = scan.labels.map((l) => l.name);
  if (names.length > 1 && names.every((n) => SPLIT_NAMES.has(n.toLowerCase()))) {
    below = names.find((n) => /^train(ing)?$/i.test(n));
    problems.push(
      `The sub-folders of ${scan.folder} (${quoted(names)}) look like a split of the data, not classes, yet each becomes a label.`,
    );
  }
  const single = scan.labels.filter((l) => l.images === 1).map((l) => l.name);
  if (single.length > 0 && scan.labels.length > 1) {
    const which =
      single.length === 1
        ? `The label ${quoted(single)} has`
        : `The labels ${quoted(single.slice(0, 5))}${single.length > 5 ? ` and ${single.length - 5} more` : ''} have`;
    problems.push(`${which} one image only: a class of one image teaches the model little about it.`);
  }
  if (problems.length === 0) return null;
  return below === undefined ? { message: problems.join(' ') } : { message: problems.join(' '), below };
}
