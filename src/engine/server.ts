// Engine process entry: JSON-RPC over stdio. The model and the native tap live only here, so a
// native crash or an out-of-memory kills this process and never its caller.
import { existsSync, writeFileSync } from 'node:fs';
import type { CancellationToken} from 'vscode-jsonrpc/node.js';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node.js';
import { UnknownArchitectureError } from '../core/sites.js';
import { ActivationEngine } from './activationEngine.js';
import {
  checkSitesRequest,
  embedTextsRequest,
  crashForTestRequest,
  encodeFloat64,
  EngineError,
  engineErrorRpcCode,
  engineInfoRequest,
  exampleResultNotification,
  extractRequest,
  generateTextsRequest,
  scoreTextsRequest,
  loadModelRequest,
  logNotification,
  progressNotification,
  tokenizeRequest,
  unloadModelRequest,
  encodeSaeRequest,
  saeLossRecoveredRequest,
  saeProgressNotification,
  tokenPiecesRequest,
  trainSaeRequest,
} from './protocol.js';
import { SaeCancelledError } from './saeTraining.js';
import { engineVersion, llamaCppRelease } from './version.js';

// stdout carries the protocol; anything else printed must go to stderr.
console.log = console.error;
console.info = console.error;

const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
let engine: ActivationEngine | undefined;
let starting: Promise<ActivationEngine> | undefined;

function toResponseError(error: unknown): ResponseError<{ code: string; file?: string; examples?: readonly number[] }> {
  if (error instanceof EngineError) {
    return new ResponseError(engineErrorRpcCode, error.message, { code: error.code, ...error.data });
  }
  if (error instanceof UnknownArchitectureError) return new ResponseError(engineErrorRpcCode, error.message, { code: 'unknown-architecture' });
  return new ResponseError(engineErrorRpcCode, (error as Error)?.message ?? String(error), { code: 'decode-failed' });
}

function handle<P, R>(fn: (params: P, token: CancellationToken) => Promise<R>) {
  return async (params: P, token: CancellationToken): Promise<R | ResponseError<unknown>> => {
    try {
      return await fn(params, token);
    } catch (error) {
      return toResponseError(error);
    }
  };
}

function requireEngine(): ActivationEngine {
  if (!engine) throw new EngineError('bad-request', 'the engine was not started: send engine/start first');
  return engine;
}

connection.onRequest(
  engineInfoRequest,
  handle(async (params) => {
    starting ??= ActivationEngine.create(params.gpu, (level, message) => {
      if (level === 'error' || level === 'fatal' || level === 'warn') connection.sendNotification(logNotification, { level, message });
    });
    engine = await starting.catch((error: unknown) => {
      starting = undefined;
      throw error;
    });
    return { version: engineVersion, llamaCppRelease, gpu: engine.gpu, pid: process.pid };
  }),
);

connection.onRequest(loadModelRequest, handle(async (params) => requireEngine().loadModel(params.path)));
connection.onRequest(
  unloadModelRequest,
  async (): Promise<void | ResponseError<unknown>> => {
    try {
      requireEngine().unloadModel();
    } catch (error) {
      return toResponseError(error);
    }
  },
);
connection.onRequest(checkSitesRequest, handle(async (params) => requireEngine().checkSites(params.text, params.threads)));
connection.onRequest(embedTextsRequest, handle(async (params) => (await requireEngine().embedTexts(params.model, params.texts, params.threads)).map((v) => Array.from(v))));
connection.onRequest(tokenizeRequest, handle(async (params) => Array.from(requireEngine().tokenize(params.text, params.addSpecial))));

/**
 * Test hook: with ICL_LAB_ENGINE_TEST_HOOKS=1 and ICL_LAB_ENGINE_TEST_CRASH_ONCE=FILE, the first
 * extract request of any engine process that finds FILE absent creates it and aborts, as a native
 * crash mid-unit would (the run's retry in a restarted engine then finds it present).
 */
function crashOnceForTest(): void {
  const marker = process.env['ICL_LAB_ENGINE_TEST_CRASH_ONCE'];
  if (process.env['ICL_LAB_ENGINE_TEST_HOOKS'] !== '1' || !marker || existsSync(marker)) return;
  writeFileSync(marker, `${process.pid}\n`);
  process.abort();
}

connection.onRequest(
  extractRequest,
  handle(async (params, token) =>
    (crashOnceForTest(), requireEngine()).extract(
      params.examples,
      params,
      (result) =>
        void connection.sendNotification(exampleResultNotification, {
          example: result.example,
          spanTokens: result.spanTokens,
          stats: encodeFloat64(result.stats),
          ...(result.pooled ? { pooled: encodeFloat64(result.pooled) } : {}),
        }),
      (progress) => void connection.sendNotification(progressNotification, progress),
      token,
    ),
  ),
);

connection.onRequest(
  scoreTextsRequest,
  handle(async (params) => {
    const result = await requireEngine().scoreTexts(params.groups, params.options);
    return {
      scores: [...result.scores].map(([key, scores]) => [key, scores.map((s) => s.logprob), scores.map((s) => s.tokens)] as [number, number[], number[]]),
      evaluatedTokens: result.evaluatedTokens,
      minimumTokens: result.minimumTokens,
    };
  }),
);

connection.onRequest(
  generateTextsRequest,
  handle(async (params) => [...(await requireEngine().generateTexts(params.groups, params.options))]),
);

connection.onRequest(tokenPiecesRequest, handle(async (params) => requireEngine().tokenPieces(params.text)));
connection.onRequest(
  trainSaeRequest,
  handle(async (params, token) => {
    try {
      return await requireEngine().trainSae(params, {
        onProgress: (progress) => void connection.sendNotification(saeProgressNotification, progress),
        cancelled: () => token.isCancellationRequested,
      });
    } catch (error) {
      if (error instanceof SaeCancelledError) throw new EngineError('cancelled', error.message);
      throw error;
    }
  }),
);
connection.onRequest(encodeSaeRequest, handle(async (params) => requireEngine().encodeSae(params)));
connection.onRequest(saeLossRecoveredRequest, handle(async (params, token) => requireEngine().saeLossRecovered(params, token)));

connection.onRequest(crashForTestRequest, (): ResponseError<unknown> => {
  if (process.env['ICL_LAB_ENGINE_TEST_HOOKS'] === '1') process.abort();
  return new ResponseError(engineErrorRpcCode, 'test hooks are disabled', { code: 'bad-request' });
});

connection.onClose(() => {
  void engine?.dispose().finally(() => process.exit(0));
  if (!engine) process.exit(0);
});

connection.listen();
