// SPIFFE ID templates: placeholders, full-ID and path forms, and what rendering refuses.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SPIFFE_ID_TEMPLATE,
  compileSpiffeIdTemplate,
  renderSpiffeId,
  type SpiffeIdTemplate,
  type TemplateValues,
} from '../../src/policy/spiffe-id-template.js';

const TD = 'hallmark.local';
const POD: TemplateValues = {
  namespace: 'payments',
  serviceAccount: 'api',
  labels: { app: 'checkout', 'app.kubernetes.io/version': 'v1.2.3', empty: '' },
};

function template(source: string): SpiffeIdTemplate {
  const result = compileSpiffeIdTemplate(source, TD);
  if (!result.ok) throw new Error(`template refused: ${result.reasons.join('; ')}`);
  return result.template;
}

describe('rendering', () => {
  it.each([
    [DEFAULT_SPIFFE_ID_TEMPLATE, 'spiffe://hallmark.local/ns/payments/sa/api'],
    [
      'spiffe://hallmark.local/ns/{namespace}/sa/{serviceAccount}',
      'spiffe://hallmark.local/ns/payments/sa/api',
    ],
    ['/workload/{label:app}', 'spiffe://hallmark.local/workload/checkout'],
    ['/{namespace}-{serviceAccount}', 'spiffe://hallmark.local/payments-api'],
    ['/v/{label:app.kubernetes.io/version}', 'spiffe://hallmark.local/v/v1.2.3'],
    ['/fixed/identity', 'spiffe://hallmark.local/fixed/identity'],
    ['/{namespace}/{namespace}', 'spiffe://hallmark.local/payments/payments'],
    ['/a.{label:app}', 'spiffe://hallmark.local/a.checkout'],
  ])('%s → %s', (source, expected) => {
    expect(renderSpiffeId(template(source), POD)?.toString()).toBe(expected);
  });

  it('records the label keys a template reads', () => {
    expect(template('/{label:a}/{label:b}/{label:a}').labelKeys).toEqual(['a', 'b']);
    expect(template(DEFAULT_SPIFFE_ID_TEMPLATE).labelKeys).toEqual([]);
  });

  it('does not render when a label it reads is missing or empty', () => {
    expect(renderSpiffeId(template('/x/{label:tier}'), POD)).toBeUndefined();
    expect(renderSpiffeId(template('/x/{label:empty}'), POD)).toBeUndefined();
  });

  it('does not read inherited properties as labels', () => {
    expect(renderSpiffeId(template('/x/{label:constructor}'), POD)).toBeUndefined();
  });

  it('does not render values that are not one path segment', () => {
    const t = template('/x/{label:app}/{serviceAccount}');
    for (const labels of [{ app: 'a/b' }, { app: '..' }, { app: 'a%2fb' }]) {
      expect(renderSpiffeId(t, { ...POD, labels })).toBeUndefined();
    }
    expect(renderSpiffeId(t, { ...POD, serviceAccount: '../admin' })).toBeUndefined();
  });
});

describe('compiling', () => {
  it.each([
    ['spiffe://hallmark.local/a', true],
    ['/a', true],
    ['a', false],
    ['spiffe://example.org/a', false],
    ['spiffe://hallmark.local:443/a', false],
    ['spiffe://user@hallmark.local/a', false],
    ['/a/{Namespace}', false],
    ['/a/{label:}', false],
    ['/a/{}', false],
    ['/a/{{namespace}}', false],
    ['/a/{namespace', false],
    ['/a/namespace}', false],
    ['/a/%2e%2e', false],
  ])('%s → accepted: %s', (source, ok) => {
    expect(compileSpiffeIdTemplate(source, TD).ok).toBe(ok);
  });

  it('reports every malformed placeholder of one template', () => {
    const result = compileSpiffeIdTemplate('/{pod}/{node}/{label:bad key}', TD);
    expect(result.ok ? 0 : result.reasons.length).toBe(3);
  });
});
