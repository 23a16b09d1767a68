// The demo dataset: short product reviews composed by the project itself from its own word
// lists (no copied text), labelled positive or negative, deterministic for a seed.
import { SeededRandom } from '../random.js';

export interface DemoRow {
  readonly id: number;
  readonly text: string;
  readonly label: 'positive' | 'negative';
}

const subjects = ['The blender', 'This kettle', 'The desk lamp', 'My new backpack', 'The garden hose', 'This notebook', 'The phone case', 'The rice cooker'];
const positive = ['works perfectly', 'feels sturdy', 'exceeded my hopes', 'is a joy to use', 'was worth every cent', 'arrived early and intact'];
const negative = ['broke within a week', 'feels flimsy', 'was a letdown', 'is hard to clean', 'stopped working', 'arrived scratched'];
const positiveTails = ['I would buy it again.', 'Highly recommended.', 'Five stars from me.', 'Great value.'];
const negativeTails = ['I want a refund.', 'Avoid this one.', 'Not recommended.', 'Poor value.'];

export function demoRows(count: number, seed: number): DemoRow[] {
  const random = new SeededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[random.int(items.length)]!;
  return Array.from({ length: count }, (_, id) => {
    const label = random.next() < 0.5 ? 'positive' : 'negative';
    const verb = pick(label === 'positive' ? positive : negative);
    const tail = pick(label === 'positive' ? positiveTails : negativeTails);
    return { id, text: `${pick(subjects)} ${verb}. ${tail}`, label };
  });
}
