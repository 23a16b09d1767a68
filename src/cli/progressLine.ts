// A one-line progress report on stderr: done/total, rate and ETA. Redrawn in place on a terminal,
// printed at most every few seconds otherwise (logs of remote jobs).
import { formatDuration } from '../core/format/duration.js';

export class ProgressLine {
  private lastPrint = 0;
  private readonly started = performance.now();

  constructor(
    private readonly label: string,
    private readonly unit = 'examples',
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, total: number, tokens?: number): void {
    const now = performance.now();
    const interactive = this.stream.isTTY === true;
    if (done < total && now - this.lastPrint < (interactive ? 200 : 5000)) return;
    this.lastPrint = now;
    const seconds = (now - this.started) / 1000;
    // Rates over the first moments (or over work found already done) mean nothing.
    const rate = seconds >= 0.5 ? done / seconds : NaN;
    const eta = done > 0 && Number.isFinite(rate) ? (total - done) / rate : NaN;
    const perSecond = (count: number): string => (seconds >= 0.5 ? (count / seconds).toFixed(1) : '--');
    const tokenRate = tokens === undefined ? '' : `${perSecond(tokens)} tok/s  `;
    const line = `${this.label} ${done}/${total} ${this.unit}  ${tokenRate}${perSecond(done)} ${this.unit}/s  ETA ${formatDuration(eta)}`;
    this.stream.write(interactive ? `\r${line}\x1b[K` : `${line}\n`);
  }

  finish(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
