// The library's public API (src/index.ts) carries what the CLI's commands are built from: the
// readers and encoders, and also the runtime states, the task models and the charts, which the
// index once left out (the CLI imported them from the modules' own index files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../src/index.js';

test('public API: states, task models, localizer and charts are exported from src/index.ts', () => {
  for (const name of ['loadDataset', 'windowStream', 'encodeDataset', 'fitKMeans', 'chooseK', 'StatePartition', 'EvidenceLocalizer', 'prepareLocalizer', 'LinearRanker', 'feltZ', 'renderSvg', 'timelineSpec']) {
    assert.equal(typeof (api as Record<string, unknown>)[name], 'function', name);
  }
});
