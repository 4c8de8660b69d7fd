// The whole catalog against our strict OSB 2.17 catalog schema, and the plan's parameter schemas.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { CATALOG, PLAN_ID, SERVICE_ID } from '../../broker/index.js';
import { readBindingParameters } from '../../broker/binding-parameters.js';
import { readSecretsParameter } from '../../broker/secrets-parameter.js';
import { isHallmarkError } from '../../src/errors/index.js';

const catalogSchema = JSON.parse(
  readFileSync(new URL('./fixtures/osb-2.17-catalog.schema.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const validateCatalog = new Ajv({ allErrors: true }).compile(catalogSchema);

type Json = Record<string, unknown>;
const clone = (): Json => JSON.parse(JSON.stringify(CATALOG)) as Json;
const services = (catalog: Json): Json[] => catalog['services'] as Json[];
const plans = (service: Json): Json[] => service['plans'] as Json[];
const plan = (): Json => plans(services(CATALOG as unknown as Json)[0]!)[0]!;

describe('catalog', () => {
  it('validates against the strict OSB 2.17 catalog schema (each version: catalog-versions.test.ts)', () => {
    const valid = validateCatalog(CATALOG);
    expect(validateCatalog.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema refuses catalogs the spec does not allow', () => {
    const breakers: [string, (c: Json) => void][] = [
      ['no bindable', (c) => delete services(c)[0]!['bindable']],
      ['no plans', (c) => (services(c)[0]!['plans'] = [])],
      ['empty description', (c) => (services(c)[0]!['description'] = '')],
      ['plan without id', (c) => delete plans(services(c)[0]!)[0]!['id']],
      [
        'maintenance version not semver',
        (c) => (plans(services(c)[0]!)[0]!['maintenance_info'] = { version: '1.0' }),
      ],
      [
        'parameters schema without $schema',
        (c) => {
          const schemas = plans(services(c)[0]!)[0]!['schemas'] as {
            service_instance: { create: { parameters: Json } };
          };
          delete schemas.service_instance.create.parameters['$schema'];
        },
      ],
      ['an unknown requires permission', (c) => (services(c)[0]!['requires'] = ['root'])],
      ['a field 2.17 does not define', (c) => (plans(services(c)[0]!)[0]!['cost'] = 0)],
    ];
    for (const [name, breakIt] of breakers) {
      const broken = clone();
      breakIt(broken);
      expect(validateCatalog(broken), name).toBe(false);
    }
  });

  it('has one CLI-friendly service and plan with stable, unique GUIDs', () => {
    const offerings = services(CATALOG as unknown as Json);
    expect(offerings).toHaveLength(1);
    const service = offerings[0]!;
    expect(service).toMatchObject({
      name: 'hallmark-secrets',
      id: '196fb1d7-b62b-4bb3-8a3a-cfa13a11fd95',
      bindable: true,
      instances_retrievable: true,
      bindings_retrievable: true,
    });
    expect(plans(service)).toHaveLength(1);
    expect(plan()).toMatchObject({ name: 'standard', id: '2eeaea04-3cb8-4285-9ab7-f28e8fc43284' });
    expect([SERVICE_ID, PLAN_ID]).toEqual([service['id'], plan()['id']]);
    const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const item of [service, plan()]) {
      expect(item['name']).toMatch(/^[a-z0-9-]+$/);
      expect(item['id']).toMatch(guid);
      // @see OSB 2.17 "Catalog Management": strings RECOMMENDED at most 255 characters.
      expect((item['description'] as string).length).toBeLessThanOrEqual(255);
    }
    expect(SERVICE_ID).not.toBe(PLAN_ID);
  });

  it('parameter schemas declare draft-04, use no external references and stay under 64 kB', () => {
    const schemas = plan()['schemas'] as Json;
    const text = JSON.stringify(schemas);
    expect(text).not.toContain('$ref');
    const all = [
      (schemas['service_instance'] as Json)['create'],
      (schemas['service_instance'] as Json)['update'],
      (schemas['service_binding'] as Json)['create'],
    ] as { parameters: Json }[];
    for (const entry of all) {
      expect(entry.parameters['$schema']).toBe('http://json-schema.org/draft-04/schema#');
      expect(Buffer.byteLength(JSON.stringify(entry.parameters))).toBeLessThan(64 * 1024);
    }
  });
});

/** Compiles a published draft-04 schema; its keywords mean the same in ajv's default draft. */
function compilePublished(schema: Json): (value: unknown) => boolean {
  const { $schema: _draft, ...rest } = schema;
  const validate = new Ajv({ strict: false }).compile(rest);
  return (value) => validate(value) as boolean;
}

function accepted(read: () => unknown): boolean {
  try {
    read();
    return true;
  } catch (err) {
    if (isHallmarkError(err, 'ERR_BROKER_REQUEST_INVALID')) return false;
    throw err;
  }
}

describe('published parameter schemas agree with what the broker enforces', () => {
  const schemas = plan()['schemas'] as Json;
  const instanceSchema = ((schemas['service_instance'] as Json)['create'] as Json)[
    'parameters'
  ] as Json;
  const bindingSchema = ((schemas['service_binding'] as Json)['create'] as Json)[
    'parameters'
  ] as Json;

  it('instance parameters: {"secrets": {"<name>": "<value>"}}', () => {
    const validate = compilePublished(instanceSchema);
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`s${i}`, 'v']));
    const cases: [unknown, boolean][] = [
      [{}, true],
      [{ secrets: {} }, true],
      [{ secrets: { 'db-password': 'x', 'API_TOKEN.v2': '' } }, true],
      [{ secrets: { a: 'x'.repeat(65_536) } }, true],
      [{ secrets: { a: 'x'.repeat(65_537) } }, false],
      [{ secrets: { a: 1 } }, false],
      [{ secrets: { '.a': 'x' } }, false],
      [{ secrets: { '..': 'x' } }, false],
      [{ secrets: { 'a/b': 'x' } }, false],
      [{ secrets: { '': 'x' } }, false],
      [{ secrets: { ['x'.repeat(129)]: 'x' } }, false],
      [{ secrets: many }, false],
      [{ secrets: 'x' }, false],
      [{ other: 1 }, false],
      [[], false],
    ];
    for (const [value, expected] of cases) {
      expect(validate(value), JSON.stringify(value).slice(0, 60)).toBe(expected);
      expect(
        accepted(() => readSecretsParameter(value, 65_536)),
        JSON.stringify(value).slice(0, 60),
      ).toBe(expected);
    }
  });

  it('binding parameters: none, or namespace and serviceAccount together', () => {
    const validate = compilePublished(bindingSchema);
    const cases: [unknown, boolean][] = [
      [{}, true],
      [{ namespace: 'payments', serviceAccount: 'api' }, true],
      [{ namespace: 'payments', serviceAccount: 'api.v2-worker' }, true],
      [{ namespace: 'payments' }, false],
      [{ serviceAccount: 'api' }, false],
      [{ namespace: 'Payments', serviceAccount: 'api' }, false],
      [{ namespace: 'pay.ments', serviceAccount: 'api' }, false],
      [{ namespace: 'x'.repeat(64), serviceAccount: 'api' }, false],
      [{ namespace: 'payments', serviceAccount: '-api' }, false],
      [{ namespace: 'payments', serviceAccount: 7 }, false],
      [{ namespace: 'payments', serviceAccount: 'api', role: 'admin' }, false],
    ];
    for (const [value, expected] of cases) {
      expect(validate(value), JSON.stringify(value)).toBe(expected);
      expect(
        accepted(() => readBindingParameters(value)),
        JSON.stringify(value),
      ).toBe(expected);
    }
  });
});
