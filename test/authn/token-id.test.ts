// Token ids: 128 random bits each, never repeated, also across refills of their pool.
import { describe, expect, it } from 'vitest';
import { newTokenId } from '../../src/authn/token-id.js';

describe('newTokenId', () => {
  it('gives 16 bytes as base64url', () => {
    const id = newTokenId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  });

  it('never gives the same id twice, across several refills', () => {
    const ids = Array.from({ length: 1_000 }, () => newTokenId());
    expect(new Set(ids).size).toBe(ids.length);
  });
});
