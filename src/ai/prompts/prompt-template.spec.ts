import { AppError } from '../../common/errors/app-error';
import { renderTemplate, templateVariables } from './prompt-template';

function renderError(template: string, values: Record<string, string>): AppError {
  try {
    renderTemplate(template, values);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('renderTemplate did not throw');
}

describe(templateVariables.name, () => {
  it('lists the placeholders in order of first appearance, each once', () => {
    expect(templateVariables('{{b}} and {{a}}, then {{b}} again and {{c}}')).toEqual(['b', 'a', 'c']);
  });

  it('allows whitespace inside the braces', () => {
    expect(templateVariables('{{ name }} {{\tlang}} {{topic  }}')).toEqual(['name', 'lang', 'topic']);
  });

  it('accepts letters, digits, _, . and - after a letter or _', () => {
    expect(templateVariables('{{user.first_name}} {{_x-2}} {{A1}}')).toEqual(['user.first_name', '_x-2', 'A1']);
  });

  it('ignores braces that are not a placeholder', () => {
    expect(templateVariables('{{}} {{ }} {{1st}} {{first name}} {name} {{-x}} {{a+b}}')).toEqual([]);
  });

  it('finds the placeholder inside triple braces', () => {
    expect(templateVariables('{{{name}}}')).toEqual(['name']);
  });

  it('returns nothing for a template without placeholders', () => {
    expect(templateVariables('Plain text.')).toEqual([]);
  });
});

describe(renderTemplate.name, () => {
  it('puts each value in place of every placeholder of its name', () => {
    expect(renderTemplate('Translate {{ text }} into {{lang}}. Only {{lang}}.', { text: '"hi"', lang: 'French' })).toBe('Translate "hi" into French. Only French.');
  });

  it('does not expand placeholders that arrive inside a value', () => {
    expect(renderTemplate('{{a}} / {{b}}', { a: '{{b}}', b: '{{a}}' })).toBe('{{b}} / {{a}}');
  });

  it('inserts replacement patterns such as $& and $1 literally', () => {
    expect(renderTemplate('<{{v}}>', { v: "$& $1 $$ $` $' $<name>" })).toBe("<$& $1 $$ $` $' $<name>>");
  });

  it('inserts markup as it is, without escaping', () => {
    expect(renderTemplate('{{html}}', { html: '<b>"A & B"</b>' })).toBe('<b>"A & B"</b>');
  });

  it('accepts empty values', () => {
    expect(renderTemplate('[{{x}}]', { x: '' })).toBe('[]');
  });

  it('returns a template without placeholders unchanged', () => {
    expect(renderTemplate('No {variables} here {{ }}.', {})).toBe('No {variables} here {{ }}.');
  });

  it('refuses a missing variable with a 400 naming it', () => {
    const error = renderError('Hello {{name}}, from {{ place }}', { name: 'Ada' });
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.status).toBe(400);
    expect(error.message).toBe('Missing template variable: place');
  });

  it('refuses a variable the template does not have, naming it', () => {
    expect(renderError('Hello {{name}}', { name: 'Ada', foo: 'x' }).message).toBe('Unknown template variable: foo');
  });

  it('names every missing and unknown variable in one message', () => {
    expect(renderError('{{a}} {{b}} {{c}}', { b: '', x: '', y: '' }).message).toBe('Missing template variables: a, c; Unknown template variables: x, y');
  });

  it('refuses any value for a template without placeholders', () => {
    expect(renderError('Plain.', { extra: 'x' }).message).toBe('Unknown template variable: extra');
  });

  it('does not take names from the prototype of the values object', () => {
    expect(renderError('{{constructor}} {{toString}}', {}).message).toBe('Missing template variables: constructor, toString');
  });
});
