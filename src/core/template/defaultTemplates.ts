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
