/**
 * A problem in a prompt template, located so the user can jump to it. `line` and `column` are
 * 1-based, columns counted in UTF-16 code units as editors do; line 0 means the file as a whole.
 */
export class TemplateError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly problem: string,
  ) {
    super(`${file}${line > 0 ? `:${line}:${column}` : ''}: ${problem}`);
    this.name = 'TemplateError';
  }
}
