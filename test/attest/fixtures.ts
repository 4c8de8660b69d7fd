// Loads the Kubernetes JSON fixtures under test/fixtures/k8s.
import { readFileSync } from 'node:fs';
import type { Pod, TokenReviewStatus } from '../../src/attest/index.js';

function load(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/k8s/${name}`, import.meta.url), 'utf8'));
}

/** The `status` of a TokenReview fixture. */
export function reviewStatus(name: string): TokenReviewStatus {
  return (load(`tokenreview-${name}.json`) as { status: TokenReviewStatus }).status;
}

/** A Pod fixture (a fresh copy each call). */
export function podFixture(name: string): Pod {
  return load(`pod-${name}.json`) as Pod;
}

/** An unsigned JWT with the given claims: only for code that reads claims without trusting them. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${enc({ alg: 'ES256', typ: 'JWT' })}.${enc(claims)}.c2lnbmF0dXJl`;
}
