import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runConfigSchemaFile, runConfigSchemaText } from '../../scripts/writeRunConfigSchema.js';

describe('media/run-config.schema.json', () => {
  it('is the schema run configurations are validated with (regenerate: npx tsx scripts/writeRunConfigSchema.ts)', () => {
    assert.equal(readFileSync(runConfigSchemaFile, 'utf8'), runConfigSchemaText);
  });
});
