// What the host decides about files worth keeping and labels (issue 9, 10): the explorer's saves
// go to a sub-folder per kind, an interpolation as a set with named rows and a sheet; the
// Projector configs name tensor, metadata and sprite in TensorBoard's and the standalone
// Projector's formats; exported folders never share a sub-folder; the label warning's words.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { labelWarning } from '../../src/protocol/labels';
import { projectorConfigJson, projectorConfigPbtxt, projectorEmbedding, projectorFolderNames } from '../../src/host/projectorExport';
import { saveTarget } from '../../src/host/savedImages';

test('saved images go to a sub-folder per kind; an interpolation names lerp and slerp apart and adds a sheet', () => {
  const samples = join('/ws', 'samples', 'run');
  assert.deepEqual(saveTarget('interpolation', 16, samples), {
    dir: join(samples, 'interpolations'),
    stem: 'interpolation',
    rows: ['lerp', 'slerp'],
    sheet: true,
  });
  assert.deepEqual(saveTarget('sample', 16, samples), { dir: join(samples, 'samples'), stem: 'sample' });
  assert.deepEqual(saveTarget('traversal', 18, samples, ['z1', 'z2']), {
    dir: join(samples, 'traversals'),
    stem: 'traversal',
    rows: ['z1', 'z2'],
    sheet: true,
  });
  assert.deepEqual(saveTarget('traversal', 18, samples), { dir: join(samples, 'traversals'), stem: 'traversal', sheet: true });
  // Rows that do not divide the images are dropped rather than refused by the engine.
  assert.deepEqual(saveTarget('interpolation', 3, samples).rows, undefined);
  assert.deepEqual(saveTarget('my picks/1', 2, samples), { dir: samples, stem: 'my-picks-1' });
});

test('the projector configs name the tensor, the metadata and the sprite with its thumbnail size', () => {
  const encoding = { folder: join('/ws', 'Trouser'), files: ['a.png', 'b.png', 'c.png'], dims: 2 };
  const sprite = { path: '/x/sprite.png', width: 28, height: 14, columns: 2, skipped: [] };
  const own = projectorEmbedding(encoding, '', sprite);
  assert.equal(
    projectorConfigPbtxt([own]),
    [
      'embeddings {',
      '  tensor_name: "Trouser"',
      '  tensor_path: "vectors.tsv"',
      '  metadata_path: "metadata.tsv"',
      '  sprite {',
      '    image_path: "sprite.png"',
      '    single_image_dim: 28',
      '    single_image_dim: 14',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  assert.deepEqual(JSON.parse(projectorConfigJson([own])), {
    embeddings: [
      {
        tensorName: 'Trouser',
        tensorShape: [3, 2],
        tensorPath: 'vectors.tsv',
        metadataPath: 'metadata.tsv',
        sprite: { imagePath: 'sprite.png', singleImageDim: [28, 14] },
      },
    ],
  });
  // Several folders in one config, each in its sub-folder; one without a sprite has no sprite block.
  const both = projectorConfigPbtxt([
    projectorEmbedding(encoding, 'Trouser', sprite),
    projectorEmbedding({ ...encoding, folder: '/ws/Bag "new"' }, 'Bag'),
  ]);
  assert.equal(both.match(/embeddings \{/g)?.length, 2);
  assert.match(both, /tensor_path: "Trouser\/vectors\.tsv"/);
  assert.match(both, /image_path: "Trouser\/sprite\.png"/);
  assert.match(both, /tensor_name: "Bag \\"new\\""\n {2}tensor_path: "Bag\/vectors\.tsv"\n {2}metadata_path: "Bag\/metadata\.tsv"\n\}/);
});

test('every exported folder gets its own sub-folder, numbered when two have the same name', () => {
  assert.deepEqual(projectorFolderNames(['/a/train/Trouser', '/a/test/Trouser', '/a/Bag', '/b/trouser']), [
    'Trouser',
    'Trouser-2',
    'Bag',
    'trouser-3',
  ]);
});

test('the label warning: one sub-folder, a split, labels of one image; none for classes or no sub-folders', () => {
  const scan = (labels: [string, number][], unlabelled = 0) => ({
    folder: '/data',
    images: labels.reduce((n, [, c]) => n + c, unlabelled),
    unlabelled,
    labels: labels.map(([name, images]) => ({ name, images })),
  });
  const only = labelWarning(scan([['train', 600]]));
  assert.equal(only?.below, 'train');
  assert.match(only!.message, /All 600 images of \/data are in one sub-folder, "train", so every image gets the same label "train"/);
  assert.match(labelWarning(scan([['cats', 10]], 5))!.message, /^10 of the 15 images/);
  const split = labelWarning(
    scan([
      ['test', 100],
      ['Train', 600],
    ]),
  );
  assert.equal(split?.below, 'Train');
  assert.match(split!.message, /look like a split of the data, not classes/);
  const single = labelWarning(
    scan([
      ['a', 1],
      ['b', 40],
      ['c', 1],
    ]),
  );
  assert.equal(single?.below, undefined);
  assert.match(single!.message, /The labels "a", "c" have one image only/);
  assert.equal(
    labelWarning(
      scan([
        ['circle', 20],
        ['square', 20],
      ]),
    ),
    null,
  );
  assert.equal(labelWarning(scan([], 50)), null);
});
