import type { Template } from './template.js';
import { parseTemplate } from './templateParser.js';

// The default templates, as text (the same bytes as media/templates/*.icl.tmpl, which a test
// checks) and parsed. Classification reads {{text}}; generative reads {{question}}.

export const classificationTemplateText = String.raw`# ICL Activation Lab: the default prompt template for classification tasks.
# A section header (@name, alone in column 1) is followed by its text; blank lines around
# the text are layout. {{text}} is the dataset field, {{answer}} the demonstration's label.
# Escapes: \n newline, \t tab, \s space, \\ \{ \} \@ \# literal characters.

@instruction
Classify each input. Answer with one of the labels.

@demonstration
Input: {{text}}
Label: {{answer}}

@separator
\n\n

@query
Input: {{text}}

# The model's answer follows directly: " positive" after "Label:", as in the demonstrations.
@answer-prefix
\nLabel:
`;

export const generativeTemplateText = String.raw`# ICL Activation Lab: the default prompt template for generative tasks (short answers).
# A section header (@name, alone in column 1) is followed by its text; blank lines around
# the text are layout. {{question}} is the dataset field, {{answer}} the reference answer.
# Escapes: \n newline, \t tab, \s space, \\ \{ \} \@ \# literal characters.

@instruction
Answer each question briefly.

@demonstration
Question: {{question}}
Answer: {{answer}}

@separator
\n\n

@query
Question: {{question}}

# The model's answer follows directly, after "Answer:" as in the demonstrations.
@answer-prefix
\nAnswer:
`;

export const classificationTemplate: Template = parseTemplate(classificationTemplateText, 'classification.icl.tmpl');

export const generativeTemplate: Template = parseTemplate(generativeTemplateText, 'generative.icl.tmpl');

/** A field name as a prompt line shows it: `premise` → `Premise`, `question_text` → `Question text`. */
function fieldTitle(field: string): string {
  const words = field.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Text escaped for a template line: the characters a template reads as syntax. */
function escapeTemplateText(text: string): string {
  return text.replace(/[\\{}@#]/g, (c) => `\\${c}`);
}

/**
 * The built-in template for a task and the data's input fields. The built-in files read `{{text}}`
 * (classification) and `{{question}}` (generative); data whose inputs are exactly that field get
 * them unchanged, any other inputs a template of the same shape with one line per input, named by
 * its field (`Premise: {{premise}}`, `Hypothesis: {{hypothesis}}`), before the same answer line.
 */
export function defaultTemplateFor(task: 'classification' | 'generative', inputs: readonly string[]): Template {
  const builtIn = task === 'generative' ? generativeTemplate : classificationTemplate;
  const builtInField = task === 'generative' ? 'question' : 'text';
  if (inputs.length === 0 || (inputs.length === 1 && inputs[0] === builtInField)) return builtIn;
  const lines = inputs.map((field) => `${escapeTemplateText(fieldTitle(field))}: {{${field}}}`);
  const answer = task === 'generative' ? 'Answer' : 'Label';
  const text = [
    `# The built-in ${task} template for the inputs ${inputs.join(', ')}.`,
    '@instruction',
    escapeTemplateText(builtIn.instruction),
    '',
    '@demonstration',
    ...lines,
    `${answer}: {{answer}}`,
    '',
    '@separator',
    '\\n\\n',
    '',
    '@query',
    ...lines,
    '',
    '@answer-prefix',
    `\\n${answer}:`,
    '',
  ].join('\n');
  return parseTemplate(text, `built-in ${task} template (${inputs.join(', ')})`);
}
