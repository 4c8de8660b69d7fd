// Each X-Broker-API-Version gets the catalog of that OSB version, checked as a strict platform checks it.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG, PLAN_ID, SERVICE_ID } from '../../broker/index.js';
import { catalogFor } from '../../broker/catalog-versions.js';
import { startBrokerHarness, type BrokerHarness } from './helpers/broker-harness.js';
import { CLOUD_FOUNDRY, osbHeaders } from './helpers/osb-platforms.js';

type Json = Record<string, unknown>;
const MINORS = [13, 14, 15, 16, 17] as const;

/** Our own strict schema of each version's catalog (test/broker/fixtures), compiled once. */
const strict = new Map<number, ValidateFunction>(
  MINORS.map((minor) => [
    minor,
    new Ajv({ allErrors: true }).compile(
      JSON.parse(
        readFileSync(
          new URL(`./fixtures/osb-2.${minor}-catalog.schema.json`, import.meta.url),
          'utf8',
        ),
      ) as Json,
    ),
  ]),
);

function validate(minor: number, catalog: unknown): string[] {
  const check = strict.get(minor) as ValidateFunction;
  return check(catalog)
    ? []
    : (check.errors ?? []).map(
        (e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
      );
}

const service = (catalog: unknown): Json => ((catalog as Json)['services'] as Json[])[0] as Json;
const plan = (catalog: unknown): Json => (service(catalog)['plans'] as Json[])[0] as Json;
const keys = (value: Json): string[] => Object.keys(value).sort();

/** The catalog fields Hallmark sends, by the version that introduced them (spec.md per release). */
const SERVICE_KEYS_2_13 = [
  'bindable',
  'description',
  'id',
  'metadata',
  'name',
  'plan_updateable',
  'plans',
  'tags',
];
const PLAN_KEYS_2_13 = ['bindable', 'description', 'free', 'id', 'name', 'schemas'];
const EXPECTED: Record<number, { service: string[]; plan: string[] }> = {
  13: { service: SERVICE_KEYS_2_13, plan: PLAN_KEYS_2_13 },
  14: {
    service: [...SERVICE_KEYS_2_13, 'bindings_retrievable', 'instances_retrievable'],
    plan: PLAN_KEYS_2_13,
  },
  15: {
    service: [
      ...SERVICE_KEYS_2_13,
      'allow_context_updates',
      'bindings_retrievable',
      'instances_retrievable',
    ],
    plan: [...PLAN_KEYS_2_13, 'maintenance_info', 'plan_updateable'],
  },
  16: {
    service: [
      ...SERVICE_KEYS_2_13,
      'allow_context_updates',
      'bindings_retrievable',
      'instances_retrievable',
    ],
    plan: [...PLAN_KEYS_2_13, 'maintenance_info', 'plan_updateable'],
  },
  17: {
    service: [
      ...SERVICE_KEYS_2_13,
      'allow_context_updates',
      'bindings_retrievable',
      'instances_retrievable',
    ],
    plan: [...PLAN_KEYS_2_13, 'binding_rotatable', 'maintenance_info', 'plan_updateable'],
  },
};

describe.each(MINORS)('catalog for X-Broker-API-Version 2.%i', (minor) => {
  const catalog = catalogFor({ major: 2, minor });

  it('passes that version’s strict schema', () => {
    expect(validate(minor, catalog)).toEqual([]);
  });

  it('has every field of that version Hallmark uses, and no other', () => {
    expect(keys(service(catalog))).toEqual([...EXPECTED[minor]!.service].sort());
    expect(keys(plan(catalog))).toEqual([...EXPECTED[minor]!.plan].sort());
    // Values are the full catalog's: shaping drops fields, never changes one.
    expect(CATALOG).toMatchObject(catalog as Json);
  });
});

describe('catalog versions', () => {
  it('the strict schemas tell the versions apart: a newer catalog fails an older platform', () => {
    // 2.14 added instances_retrievable, 2.15 maintenance_info and more, 2.17 binding_rotatable.
    for (const [older, newer] of [
      [13, 14],
      [14, 15],
      [16, 17],
      [13, 17],
    ] as const) {
      expect(
        validate(older, catalogFor({ major: 2, minor: newer })),
        `2.${newer} as 2.${older}`,
      ).not.toEqual([]);
    }
    // The unshaped catalog (what every version got before) fails every version but 2.17.
    for (const minor of [13, 14, 15, 16]) expect(validate(minor, CATALOG)).not.toEqual([]);
    expect(validate(17, CATALOG)).toEqual([]);
  });

  it('later 2.x minors get the 2.17 catalog (minors only add fields)', () => {
    expect(catalogFor({ major: 2, minor: 18 })).toEqual(catalogFor({ major: 2, minor: 17 }));
    expect(catalogFor({ major: 2, minor: 100 })).toEqual(CATALOG);
  });
});

describe('over HTTPS', () => {
  let h: BrokerHarness;
  beforeAll(async () => {
    h = await startBrokerHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each(MINORS)(
    'GET /v2/catalog as a 2.%i platform passes that version’s strict schema',
    async (minor) => {
      const reply = await h.call('GET', '/v2/catalog', {
        headers: osbHeaders({ ...CLOUD_FOUNDRY, version: `2.${minor}` }, false),
      });
      expect(reply.status).toBe(200);
      expect(validate(minor, reply.body)).toEqual([]);
      expect(reply.body).toEqual(catalogFor({ major: 2, minor }));
    },
  );

  it('maintenance_info from a platform older than 2.15 is an unknown field, ignored', async () => {
    const provision = (version: string): Promise<{ status: number; body: Json }> =>
      h.call('PUT', `/v2/service_instances/${randomUUID()}`, {
        headers: osbHeaders({ ...CLOUD_FOUNDRY, version }),
        body: {
          ...CLOUD_FOUNDRY.provisionBody(),
          service_id: SERVICE_ID,
          plan_id: PLAN_ID,
          maintenance_info: { version: '0.9.0' },
        },
      });
    expect((await provision('2.14')).status).toBe(201);
    expect(await provision('2.15')).toMatchObject({
      status: 422,
      body: { error: 'MaintenanceInfoConflict' },
    });
  });
});
