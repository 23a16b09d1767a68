/** A problem in a data file, located so the user can jump to it. */
export class DatasetError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
    readonly column?: number,
  ) {
    super(`${file}:${line}${column !== undefined ? `:${column}` : ''}: ${problem}`);
    this.name = 'DatasetError';
  }
}
