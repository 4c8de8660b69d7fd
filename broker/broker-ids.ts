// Instance and binding ids: what the broker accepts, and the names it derives from them.
import { randomBytes } from 'node:crypto';
import { HallmarkError } from '../src/errors/index.js';
import { parseSecretPath, type SecretPath } from '../src/secrets/index.js';

/**
 * Ids are one secret-path segment starting with a letter or digit, at most 100 characters:
 * the instance id becomes the scope `osb/<id>/`, the binding id part of the API-key id
 * (`osb-<binding>.<12 hex>`, within the 128 characters an API-key id may have). GUIDs, which
 * platforms send, fit; OSB 2.17 "URL Properties" only RECOMMENDS unreserved characters, so a
 * broker with narrower rules refuses the rest with 400. 100 is also fastify's default
 * `maxParamLength`: the router refuses a longer URL segment before any route runs.
 */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Checks an instance or binding id from the URL.
 * @throws HallmarkError `ERR_BROKER_REQUEST_INVALID`
 */
export function checkBrokerId(id: string, what: 'instance_id' | 'binding_id'): string {
  if (!ID.test(id)) {
    throw new HallmarkError('ERR_BROKER_REQUEST_INVALID', {
      message: `${what} must be 1-100 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit`,
    });
  }
  return id;
}

/** The secret scope of an instance: every secret it holds is below this prefix. */
export function scopePrefix(instanceId: string): string {
  return `osb/${instanceId}/`;
}

/**
 * The secret path of one named secret of an instance: where the broker's paths enter the
 * secret store, so this is their one check (ids and names are single segments already).
 * @throws SecretPathError `ERR_SECRET_BAD_PATH`
 */
export function scopeSecretPath(instanceId: string, name: string): SecretPath {
  return parseSecretPath(`${scopePrefix(instanceId)}${name}`);
}

/**
 * A fresh API-key id for a binding: the binding id plus 48 random bits. The suffix keeps a
 * reused binding id (OSB 2.17 "Provisioning": platforms SHOULD NOT reuse ids, brokers MAY
 * not support it) from colliding with the revoked key of its predecessor, whose identity
 * stays on the revocation list.
 */
export function newApiKeyId(bindingId: string): string {
  return `osb-${bindingId}.${randomBytes(6).toString('hex')}`;
}

/**
 * An audit target naming an instance (and binding). Ids that fail validation are shown
 * JSON-quoted and bounded, so a hostile id can neither forge structure nor grow the row.
 */
export function brokerTarget(instanceId: string | undefined, bindingId?: string): string {
  const instance = `osb/${shown(instanceId ?? '')}`;
  return bindingId === undefined ? instance : `${instance}/bindings/${shown(bindingId)}`;
}

function shown(id: string): string {
  if (ID.test(id)) return id;
  return JSON.stringify(id.length > 64 ? `${id.slice(0, 64)}…` : id);
}
