// What Cloud Foundry and Kubernetes send an OSB broker: headers, contexts, ids (per the OSB profile).
import { randomUUID } from 'node:crypto';
import { PLAN_ID, SERVICE_ID } from '../../../broker/index.js';

/** Base64 of a JSON value, as the originating-identity header carries it. */
export function base64Json(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

/** One platform's way of calling the broker. */
export interface OsbPlatform {
  readonly name: 'cloudfoundry' | 'kubernetes';
  /** `X-Broker-API-Version` it speaks. */
  readonly version: string;
  /** The decoded originating identity of its user. */
  readonly user: Readonly<Record<string, unknown>>;
  /** The audit actor that user must appear as. */
  readonly actor: string;
  /** The provision body (without parameters). */
  provisionBody(): Record<string, unknown>;
  /** The bind body (without parameters). */
  bindBody(): Record<string, unknown>;
}

/** Cloud Foundry (OSB profile: user_id; context with org/space guids and names). */
export const CLOUD_FOUNDRY: OsbPlatform = {
  name: 'cloudfoundry',
  version: '2.15',
  user: { user_id: '683ea748-3092-4ff4-b656-39cacc4d5360' },
  actor: 'osb:cloudfoundry:user_id=683ea748-3092-4ff4-b656-39cacc4d5360',
  provisionBody: () => ({
    service_id: SERVICE_ID,
    plan_id: PLAN_ID,
    organization_guid: '1113aa0-124e-4af2-1526-6bfacf61b111',
    space_guid: 'aaaa1234-da91-4f12-8ffa-b51d0336aaaa',
    context: {
      platform: 'cloudfoundry',
      organization_guid: '1113aa0-124e-4af2-1526-6bfacf61b111',
      organization_name: 'system',
      space_guid: 'aaaa1234-da91-4f12-8ffa-b51d0336aaaa',
      space_name: 'development',
      instance_name: 'payments-secrets',
    },
  }),
  bindBody: () => ({
    service_id: SERVICE_ID,
    plan_id: PLAN_ID,
    bind_resource: { app_guid: 'd1b6c1a4-8f2e-4c3a-9a51-0f3e5c7b2a10' },
    context: {
      platform: 'cloudfoundry',
      organization_guid: '1113aa0-124e-4af2-1526-6bfacf61b111',
      organization_name: 'system',
      space_guid: 'aaaa1234-da91-4f12-8ffa-b51d0336aaaa',
      space_name: 'development',
    },
  }),
};

/** Kubernetes (OSB profile: username, uid, groups, extra; context with namespace). */
export const KUBERNETES: OsbPlatform = {
  name: 'kubernetes',
  version: '2.13',
  user: {
    username: 'duke',
    uid: 'c2dde242-5ce4-11e7-988c-000c2946f14f',
    groups: ['admin', 'dev'],
    extra: { mydata: ['data1', 'data3'] },
  },
  actor: 'osb:kubernetes:username=duke,uid=c2dde242-5ce4-11e7-988c-000c2946f14f,groups=admin|dev',
  provisionBody: () => ({
    service_id: SERVICE_ID,
    plan_id: PLAN_ID,
    context: { platform: 'kubernetes', namespace: 'payments', clusterid: 'cluster-1' },
  }),
  bindBody: () => ({
    service_id: SERVICE_ID,
    plan_id: PLAN_ID,
    context: { platform: 'kubernetes', namespace: 'payments', clusterid: 'cluster-1' },
  }),
};

/** The OSB headers a platform sends for one call by its user (`user: false`: no user, e.g. catalog). */
export function osbHeaders(platform: OsbPlatform, user = true): Record<string, string> {
  const headers: Record<string, string> = {
    'x-broker-api-version': platform.version,
    'x-broker-api-request-identity': randomUUID(),
  };
  if (user)
    headers['x-broker-api-originating-identity'] = `${platform.name} ${base64Json(platform.user)}`;
  return headers;
}

/** The query string deprovision and unbind carry. */
export const DELETE_QUERY = `service_id=${SERVICE_ID}&plan_id=${PLAN_ID}`;
