// Shared by the benchmarks: the cached Qwen2.5-0.5B-shaped model, one fresh child process per timed
// run, peak RSS and CPU-contention measurement, and small formatting helpers.
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateModel, MODEL_GENERATOR_VERSION, type ModelOptions } from '../src/engine/gguf/modelGenerator.js';
import { packageRoot } from '../src/engine/packageRoot.js';

const RSS_SAMPLE_MS = 50;

/** ../shared/datasets beside the package (absent on machines without the shared data). */
export function sharedDatasetsDir(): string {
  return path.resolve(packageRoot(), '..', 'shared', 'datasets');
}

/** A positive integer option, or `fallback` when it was not given. */
export function positiveOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

/** Qwen2.5-0.5B's shapes; weights are seeded noise, which costs the same to evaluate. */
export function benchModelOptions(layers: number): Omit<ModelOptions, 'out'> {
  return { arch: 'qwen2', layers, embd: 896, ff: 4864, heads: 14, kvHeads: 2, vocab: 'qwen2', type: 'q8_0', seed: 1 };
}

export async function benchModel(options: Omit<ModelOptions, 'out'>): Promise<{ path: string; generatedMs?: number }> {
  const dir = path.join(os.tmpdir(), 'icl-lab-bench-models');
  // The generator version is in the key so a changed generator never reuses an old model.
  const key = `g${MODEL_GENERATOR_VERSION}-${options.arch}-${options.vocab}-${options.type}-L${options.layers}-E${options.embd}-F${options.ff}-H${options.heads}-K${options.kvHeads}-S${options.seed}`;
  const file = path.join(dir, `${key}.gguf`);
  if (existsSync(file)) return { path: file };
  await mkdir(dir, { recursive: true });
  console.log(`generating ${file} (once; cached for later runs)…`);
  const started = performance.now();
  // Written under a temporary name so a killed run never leaves a half-written model behind.
  const partial = `${file}.${process.pid}.partial`;
  await generateModel({ ...options, out: partial });
  await rename(partial, file);
  return { path: file, generatedMs: performance.now() - started };
}

/** The model line of a benchmark's header. */
export function describeBenchModel(options: Omit<ModelOptions, 'out'>, model: { generatedMs?: number }, modelBytes: number): string {
  return `qwen2 ${options.layers} layers, embd ${options.embd}, ff ${options.ff}, ${options.heads} heads / ${options.kvHeads} KV, Q8_0, seed 1: ${mib(modelBytes)} (${modelBytes} bytes)${model.generatedMs === undefined ? ', cached' : `, generated in ${(model.generatedMs / 1000).toFixed(1)} s`}`;
}

export interface RssReport {
  /** RSS of the fresh child process before it loads anything. */
  readonly startRssBytes: number;
  /** Highest RSS sampled every RSS_SAMPLE_MS while the side ran. */
  readonly peakRssBytes: number;
  /** The kernel's high-water mark for the child process (catches spikes between samples). */
  readonly maxRssBytes: number;
}

/** Peak resident set size while a side runs; sampled on a timer (the decodes run off-thread). */
export class RssSampler {
  readonly startBytes = process.memoryUsage.rss();
  private peak = this.startBytes;
  private readonly timer = setInterval(() => this.sample(), RSS_SAMPLE_MS);

  private sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }

  /** Idempotent: a failed side still stops its timer. */
  stop(): RssReport {
    clearInterval(this.timer);
    this.sample();
    return { startRssBytes: this.startBytes, peakRssBytes: this.peak, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  }
}

/**
 * Measures how many cores other processes used while `timed` ran: all busy CPU time (from
 * /proc/stat) minus ours. Contention matters here: llama.cpp's threads wait for each other at
 * every graph node, so one descheduled thread stalls the whole decode.
 */
export async function timedWithContention<T>(timed: () => Promise<T>): Promise<{ value: T; ms: number; otherCores?: number }> {
  const busyBefore = systemBusySeconds();
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const value = await timed();
  const ms = performance.now() - started;
  const busyAfter = systemBusySeconds();
  if (busyBefore === undefined || busyAfter === undefined) return { value, ms };
  const own = process.cpuUsage(ownBefore);
  const ownSeconds = (own.user + own.system) / 1e6;
  return { value, ms, otherCores: Math.max(0, (busyAfter - busyBefore - ownSeconds) / (ms / 1000)) };
}

function systemBusySeconds(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...; guest time is already inside user.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * Runs `script` again in a fresh process (with the same loader, e.g. tsx) with `args`, and returns
 * the one message it sends back with `sendToParent`.
 */
export function runInChild<T>(script: string, label: string, args: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let report: T | undefined;
    child.on('message', (message) => {
      report = message as T;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (report && code === 0) resolve(report);
      else reject(new Error(`${label}: the benchmark process ended with ${signal ?? `exit code ${code}`} before reporting`));
    });
  });
}

/** A child's report to `runInChild`, delivered before the promise settles. */
export async function sendToParent(report: unknown): Promise<void> {
  if (!process.send) throw new Error('--child is internal: run the benchmark without it');
  const send = process.send.bind(process);
  await new Promise<void>((resolve, reject) => send(report, (error: Error | null) => (error ? reject(error) : resolve())));
}

/** Runs a benchmark's main: errors print and set the exit code; a child lets go of its parent. */
export function runBenchmark(main: () => Promise<void>): void {
  main()
    .catch((error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    })
    .finally(() => {
      // A child's IPC channel would keep it alive after its work is done.
      if (process.connected) process.disconnect();
    });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** The CPU line's start: model and logical core count. */
export function describeCpu(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} logical cores`;
}

/** Prints a table: first column left-aligned, the others right-aligned. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}
