// Requests the webview makes of the extension (a scatter plot's points, a statistic's values):
// each carries a requestId, the answer or an error notification carries it back.
import type { HostMessage } from '../../src/extension/panels/panelMessages.js';

type Answer = Extract<HostMessage, { requestId: number }>;

export class PendingRequests {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (answer: Answer) => void; reject: (error: Error) => void }>();

  /** A fresh requestId and the promise of its answer. */
  start(): { requestId: number; answer: Promise<Answer> } {
    const requestId = this.next++;
    const answer = new Promise<Answer>((resolve, reject) => this.pending.set(requestId, { resolve, reject }));
    return { requestId, answer };
  }

  /** Settles the request a message answers; false when it answers none. */
  settle(message: HostMessage): boolean {
    if (!('requestId' in message) || typeof message.requestId !== 'number') return false;
    const waiting = this.pending.get(message.requestId);
    if (!waiting) return false;
    this.pending.delete(message.requestId);
    if (message.type === 'error') waiting.reject(new Error(message.message));
    else waiting.resolve(message);
    return true;
  }
}
