/** A problem in a data file, located so the user can jump to it (line 0: the file as a whole). */
export class DatasetError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
    readonly column?: number,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ''}${line > 0 && column !== undefined ? `:${column}` : ''}: ${problem}`);
    this.name = 'DatasetError';
  }
}
