/// <reference lib="dom" />
// The webview's one way to the extension: the only acquireVsCodeApi call. Messages are the typed
// ones of panelMessages.ts; the panel's state (run folder and UI choices) is kept with setState,
// which VS Code hands back to a restored panel and to the extension's WebviewPanelSerializer.
import {
  isHostMessage,
  isPing,
  parsePanelState,
  type HostMessage,
  type PanelKind,
  type PanelState,
  type WebviewMessage,
} from '../../src/extension/panels/panelMessages.js';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface HostBridge<Ui extends PanelState['ui']> {
  post(message: WebviewMessage): void;
  onMessage(listener: (message: HostMessage) => void): void;
  /** The saved UI choices (of this panel kind), or none. */
  savedUi(): Partial<Ui>;
  save(runDir: string, ui: Ui): void;
}

export function connectHost<Ui extends PanelState['ui']>(kind: PanelKind): HostBridge<Ui> {
  const api = acquireVsCodeApi();
  // The extension's liveness check (see ChartPanel): answered here, for every panel.
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isPing(event.data)) api.postMessage({ type: 'pong' } satisfies WebviewMessage);
  });
  return {
    post: (message) => api.postMessage(message),
    onMessage: (listener) =>
      window.addEventListener('message', (event: MessageEvent<unknown>) => {
        if (isHostMessage(event.data)) listener(event.data);
      }),
    savedUi: () => {
      const state = parsePanelState(api.getState());
      return state && state.kind === kind ? (state.ui as Partial<Ui>) : {};
    },
    save: (runDir, ui) => api.setState({ kind, runDir, ui } satisfies PanelState),
  };
}
