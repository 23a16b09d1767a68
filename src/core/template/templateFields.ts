import { answerPlaceholder, templatePlaceholders, type Template } from './template.js';
import { TemplateError } from './templateError.js';

/** The dataset fields the template reads (every placeholder but `{{answer}}`), in order of first use. */
export function templateFieldNames(template: Template): string[] {
  const names = templatePlaceholders(template)
    .map((placeholder) => placeholder.name)
    .filter((name) => name !== answerPlaceholder);
  return [...new Set(names)];
}

/** Throws a TemplateError at the first placeholder that names none of `fields` (a dataset's input fields). */
export function checkTemplateFields(template: Template, fields: readonly string[]): void {
  const known = new Set(fields);
  for (const placeholder of templatePlaceholders(template)) {
    if (placeholder.name === answerPlaceholder || known.has(placeholder.name)) continue;
    const available = fields.length > 0 ? `has ${fields.map((field) => `{{${field}}}`).join(', ')}` : 'has no input fields';
    throw new TemplateError(
      template.file,
      placeholder.line,
      placeholder.column,
      `unknown field {{${placeholder.name}}}: the dataset ${available} (and demonstrations have {{answer}})`,
    );
  }
}
