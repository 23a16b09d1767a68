import assert from 'node:assert/strict';
import {
  fromWire,
  isHostMessage,
  maxExportChars,
  parsePanelState,
  parseWebviewMessage,
  wireNumber,
  type CellKey,
  type PanelKind,
} from '../../src/extension/panels/panelMessages.js';

const cell: CellKey = { mask: 'isolated', site: 'mlp_out', layer: 3, statistic: 'kurtosis', pooling: 'all', estimator: 'one-shot', metric: 'gold_logprob' };
const png = 'data:image/png;base64,iVBORw0KGgo=';

describe('chart panel messages', () => {
  it('accepts each message its panel may send', () => {
    const valid: [PanelKind, unknown][] = [
      ['histograms', { type: 'ready' }],
      ['histograms', { type: 'statistic', requestId: 1, key: { mask: 'isolated', site: 'resid_post', layer: 0, pooling: 'last', statistic: 'mean' } }],
      ['correlations', { type: 'cellSelected', requestId: 2, cell }],
      ['correlations', { type: 'revealExample', example: 17 }],
      ['correlations', { type: 'export', format: 'svg', content: '<svg xmlns="http://www.w3.org/2000/svg"></svg>', name: 'heatmap-isolated' }],
      ['learningCurves', { type: 'export', format: 'png', content: png, name: 'curves' }],
      ['learningCurves', { type: 'export', format: 'csv', content: 'a,b\n1,2\n', name: 'curves' }],
      ['learningCurves', { type: 'error', message: 'boom' }],
    ];
    for (const [kind, message] of valid) assert.deepEqual(parseWebviewMessage(message, kind), message, JSON.stringify(message));
  });

  it('refuses messages another panel kind sends', () => {
    assert.equal(parseWebviewMessage({ type: 'cellSelected', requestId: 2, cell }, 'histograms'), undefined);
    assert.equal(parseWebviewMessage({ type: 'revealExample', example: 1 }, 'learningCurves'), undefined);
    assert.equal(parseWebviewMessage({ type: 'statistic', requestId: 1, key: { mask: 'm', layer: 0, pooling: 'all', statistic: 'mean' } }, 'correlations'), undefined);
  });

  it('refuses malformed messages', () => {
    const bad: unknown[] = [
      null,
      'ready',
      [],
      { type: 'nope' },
      { type: 'ready', extra: 1 },
      { type: 'revealExample', example: -1 },
      { type: 'revealExample', example: 1.5 },
      { type: 'revealExample', example: '3' },
      { type: 'revealExample', example: Number.NaN },
      { type: 'cellSelected', requestId: 1, cell: { ...cell, layer: -2 } },
      { type: 'cellSelected', requestId: 1, cell: { ...cell, mask: '' } },
      { type: 'cellSelected', requestId: 1, cell: { ...cell, site: '' } },
      { type: 'cellSelected', requestId: 1, cell: { ...cell, statistic: 'x'.repeat(201) } },
      { type: 'cellSelected', requestId: 1, cell: { ...cell, file: '/etc/passwd' } },
      { type: 'cellSelected', requestId: 'one', cell },
      { type: 'export', format: 'pdf', content: 'x', name: 'a' },
      { type: 'export', format: 'png', content: 'data:text/html;base64,PGI+', name: 'a' },
      { type: 'export', format: 'png', content: 'javascript:alert(1)', name: 'a' },
      { type: 'export', format: 'svg', content: '<html><script>alert(1)</script>', name: 'a' },
      { type: 'export', format: 'csv', content: '', name: 'a' },
      { type: 'export', format: 'csv', content: 'x', name: '' },
      { type: 'export', format: 'csv', content: 'x', name: '../../.bashrc' },
      { type: 'export', format: 'csv', content: 'x', name: '.hidden' },
      { type: 'export', format: 'csv', content: 'x', name: 'a/b' },
      { type: 'export', format: 'csv', content: 'x'.repeat(maxExportChars + 1), name: 'a' },
      { type: 'error', message: 42 },
    ];
    for (const message of bad) assert.equal(parseWebviewMessage(message, 'correlations'), undefined, JSON.stringify(message)?.slice(0, 100));
    // A statistic key without its site names no one column of stats.csv.
    assert.equal(parseWebviewMessage({ type: 'statistic', requestId: 1, key: { mask: 'isolated', layer: 0, pooling: 'all', statistic: 'mean' } }, 'histograms'), undefined);
  });

  it('sends numbers JSON cannot carry as null and reads them back as NaN', () => {
    const wire = JSON.parse(JSON.stringify({ a: wireNumber(NaN), b: wireNumber(Infinity), c: wireNumber(-0.5) })) as Record<string, number | null>;
    assert.deepEqual(wire, { a: null, b: null, c: -0.5 });
    assert.ok(Number.isNaN(fromWire(wire['a']!)));
    assert.equal(fromWire(wire['c']!), -0.5);
  });

  it('tells host messages by their type', () => {
    assert.ok(isHostMessage({ type: 'scatter/data', requestId: 1, cell, points: [], notes: [] }));
    assert.ok(isHostMessage({ type: 'error', message: 'x' }));
    assert.ok(!isHostMessage({ type: 'ready' }));
    assert.ok(!isHostMessage('error'));
  });

  it('reads back a saved panel state and refuses a foreign one', () => {
    assert.deepEqual(parsePanelState({ kind: 'correlations', runDir: '/runs/a', ui: { mask: 'isolated', cell } }), { kind: 'correlations', runDir: '/runs/a', ui: { mask: 'isolated', cell } });
    assert.deepEqual(parsePanelState({ kind: 'learningCurves', runDir: '/runs/a' }), { kind: 'learningCurves', runDir: '/runs/a', ui: {} });
    for (const state of [undefined, null, {}, { kind: 'other', runDir: '/x' }, { kind: 'histograms', runDir: '' }, { kind: 'histograms', runDir: 3 }]) {
      assert.equal(parsePanelState(state), undefined, JSON.stringify(state));
    }
  });
});
