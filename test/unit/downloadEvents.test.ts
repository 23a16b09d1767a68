import assert from 'node:assert/strict';
import {
  describeDownloadProgress,
  downloadPercent,
  DownloadProgressMeter,
  formatBytes,
  parseDownloadEvent,
  type DownloadEvent,
} from '../../src/core/models/downloadEvents.js';

describe('download progress', () => {
  it('writes sizes in decimal units, as Hugging Face lists them', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(1500), '1.50 kB');
    assert.equal(formatBytes(74_005_184), '74.0 MB');
    assert.equal(formatBytes(3.42e9), '3.42 GB');
    assert.equal(formatBytes(250e9), '250 GB');
    assert.equal(formatBytes(NaN), '--');
  });

  it('describes progress with percent, sizes, speed and time left', () => {
    const p = { event: 'progress', downloadedBytes: 1.4e9, totalBytes: 3.42e9, bytesPerSecond: 25.3e6, etaSeconds: 80 } as const;
    assert.equal(downloadPercent(p), 40);
    assert.equal(describeDownloadProgress(p), '40% · 1.40 GB of 3.42 GB · 25.3 MB/s · 1m20s left');
    assert.equal(describeDownloadProgress({ ...p, bytesPerSecond: null, etaSeconds: null }), '40% · 1.40 GB of 3.42 GB');
    assert.equal(describeDownloadProgress({ ...p, totalBytes: 0 }), '1.40 GB · 25.3 MB/s');
    assert.equal(downloadPercent({ downloadedBytes: 5, totalBytes: 0 }), 0);
  });

  it('reads back every event the CLI writes, and nothing else', () => {
    const events: DownloadEvent[] = [
      { event: 'start', uri: 'hf:u/r/m.gguf', file: '/m/hf_u_m.gguf', totalBytes: 10, existing: false },
      { event: 'progress', downloadedBytes: 5, totalBytes: 10, bytesPerSecond: null, etaSeconds: null },
      { event: 'done', uri: 'hf:u/r/m.gguf', file: '/m/hf_u_m.gguf', bytes: 10, existing: true },
      { event: 'error', uri: 'http://x/m.gguf', reason: 'http-status', message: 'cannot download http://x/m.gguf: HTTP 404 Not Found', status: 404 },
    ];
    for (const event of events) assert.deepEqual(parseDownloadEvent(JSON.stringify(event) + '\r\n'), event);
    assert.equal(parseDownloadEvent('downloading…'), undefined);
    assert.equal(parseDownloadEvent('{"event":"progress"}'), undefined);
    assert.equal(parseDownloadEvent('{"event":"run"}'), undefined);
    assert.equal(parseDownloadEvent('{not json'), undefined);
  });

  it('meters the downloader callbacks: a few events a second, its own rate, the last one always once', () => {
    let now = 0;
    const meter = new DownloadProgressMeter(250, () => now);
    now = 100;
    assert.equal(meter.update(1000, 10_000)?.bytesPerSecond, null, 'no rate before half a second');
    now = 200;
    assert.equal(meter.update(2000, 10_000), undefined, 'throttled');
    now = 2100;
    const p = meter.update(5000, 10_000)!;
    assert.equal(p.bytesPerSecond, (5000 - 1000) / 2.1);
    assert.equal(p.etaSeconds, 5000 / p.bytesPerSecond!);
    now = 2150;
    assert.equal(meter.update(10_000, 10_000)?.downloadedBytes, 10_000, 'the end is never throttled');
    assert.equal(meter.update(10_000, 10_000), undefined, 'nor repeated');
  });
});
