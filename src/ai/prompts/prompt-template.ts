import { AppError } from '../../common/errors/app-error';

// A few lines instead of a library: Mustache escapes HTML and has sections, partials and delimiter
// changes, Handlebars compiles templates to code; a prompt needs plain substitution and nothing else.
// Anything in braces that is not `{{name}}` (with optional inner whitespace) stays as written.
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

// The template's variable names in order of first appearance, each once.
export function templateVariables(template: string): string[] {
  return [...new Set(Array.from(template.matchAll(PLACEHOLDER), (match) => match[1]))];
}

// One pass over the template: each value goes in literally, so a value that contains `{{x}}`, `$&`
// or markup comes out exactly as given. Throws VALIDATION_FAILED (400) naming every missing and
// every unknown variable.
export function renderTemplate(template: string, values: Record<string, string>): string {
  const variables = templateVariables(template);
  const missing = variables.filter((name) => !Object.hasOwn(values, name));
  const known = new Set(variables);
  const unknown = Object.keys(values).filter((name) => !known.has(name));
  const problems = [problemOf('Missing', missing), problemOf('Unknown', unknown)].filter(Boolean);
  if (problems.length) throw new AppError('VALIDATION_FAILED', problems.join('; '));
  // A replacer function, not a replacement string: its result is never scanned for `$` patterns.
  return template.replace(PLACEHOLDER, (_placeholder, name: string) => values[name]);
}

function problemOf(kind: string, names: string[]): string {
  if (!names.length) return '';
  return `${kind} template variable${names.length > 1 ? 's' : ''}: ${names.join(', ')}`;
}
