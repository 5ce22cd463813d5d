import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlideError } from '../../main/engine/slide/types.js';
test('SlideError carries its code', () => {
  const e = new SlideError('CORRUPT', 'x');
  assert.equal(e.code, 'CORRUPT');
});
