// A loopback HTTP server that serves model files as a real host does: Content-Length, Accept-Ranges
// and 206 answers to Range requests (node-llama-cpp's downloader fetches ranges in parallel), 404 for
// anything else, and the Hugging Face routes node-llama-cpp uses (`/<user>/<repo>/resolve/<branch>/<file>`
// and the `/v2/<user>/<repo>/manifests/<tag>` manifest). `delayMs` throttles every 64 KiB chunk.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedFile {
  readonly body: Buffer;
  readonly contentType?: string;
  /** Sent chunked, without Content-Length or Range support, as some servers do. */
  readonly chunked?: boolean;
}

export interface ModelServer {
  readonly origin: string;
  readonly requests: { method: string; url: string; range?: string }[];
  delayMs: number;
  close(): Promise<void>;
}

export async function startModelServer(files: Readonly<Record<string, ServedFile>>, manifests: Readonly<Record<string, string>> = {}): Promise<ModelServer> {
  const requests: ModelServer['requests'] = [];
  const state = { delayMs: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({ method: req.method ?? 'GET', url: url.pathname + url.search, ...(req.headers.range ? { range: req.headers.range } : {}) });
    const manifest = manifests[url.pathname];
    if (manifest !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ggufFile: { rfilename: manifest } }));
      return;
    }
    const file = files[url.pathname];
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const size = file.body.length;
    let start = 0;
    let end = size - 1;
    const range = file.chunked ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const headers: http.OutgoingHttpHeaders = { 'content-type': file.contentType ?? 'application/octet-stream' };
    if (!file.chunked) headers['accept-ranges'] = 'bytes';
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size || start > end) {
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
    if (!file.chunked) headers['content-length'] = end - start + 1;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    let position = start;
    const writeMore = (): void => {
      while (!res.destroyed && position <= end) {
        const next = Math.min(position + 65536, end + 1);
        const chunk = file.body.subarray(position, next);
        position = next;
        if (position > end) {
          res.end(chunk);
          return;
        }
        const drained = res.write(chunk);
        if (state.delayMs > 0) {
          setTimeout(writeMore, state.delayMs);
          return;
        }
        if (!drained) {
          res.once('drain', writeMore);
          return;
        }
      }
    };
    writeMore();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
