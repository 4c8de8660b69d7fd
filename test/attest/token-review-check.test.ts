import { describe, expect, it } from 'vitest';
import {
  checkTokenReview,
  parseServiceAccountUsername,
  tokenClaimsAudience,
} from '../../src/attest/index.js';
import type { TokenReviewStatus } from '../../src/attest/index.js';
import { reviewStatus, unsignedJwt } from './fixtures.js';
import { codeOf, errorOf } from '../helpers/error-code.js';

describe('checkTokenReview', () => {
  it('accepts a pod-bound service account token and returns its subject', () => {
    expect(checkTokenReview(reviewStatus('pod-bound'), 'hallmark')).toEqual({
      namespace: 'payments',
      serviceAccount: 'api',
      serviceAccountUid: 'a3f1c2d4-6b7e-4f80-9a1b-2c3d4e5f6a7b',
      podName: 'api-7d9f8c6b5-x2k4q',
      podUid: '5b1e7a4c-9f2d-4e0b-8a61-2f3c4d5e6f70',
    });
  });

  it.each([
    ['not-pod-bound', 'ERR_ATTEST_TOKEN_NOT_POD_BOUND'],
    ['expired', 'ERR_ATTEST_TOKEN_INVALID'],
    ['pod-deleted', 'ERR_ATTEST_TOKEN_INVALID'],
    ['no-audiences', 'ERR_ATTEST_AUDIENCE_MISMATCH'],
    ['user', 'ERR_ATTEST_TOKEN_INVALID'],
  ])('refuses the %s review with %s', (fixture, code) => {
    expect(codeOf(() => checkTokenReview(reviewStatus(fixture), 'hallmark'))).toBe(code);
  });

  it('refuses a review for a different audience than ours', () => {
    const status = reviewStatus('pod-bound');
    expect(codeOf(() => checkTokenReview(status, 'vault'))).toBe('ERR_ATTEST_AUDIENCE_MISMATCH');
  });

  it('reports a rejected token that names another audience as an audience mismatch', () => {
    const status = reviewStatus('wrong-audience');
    const vaultToken = unsignedJwt({ aud: ['vault'] });
    const ourToken = unsignedJwt({ aud: ['hallmark'] });
    expect(codeOf(() => checkTokenReview(status, 'hallmark', vaultToken))).toBe(
      'ERR_ATTEST_AUDIENCE_MISMATCH',
    );
    // A token that does name our audience was rejected for another reason.
    expect(codeOf(() => checkTokenReview(status, 'hallmark', ourToken))).toBe(
      'ERR_ATTEST_TOKEN_INVALID',
    );
    expect(codeOf(() => checkTokenReview(status, 'hallmark', 'garbage'))).toBe(
      'ERR_ATTEST_TOKEN_INVALID',
    );
  });

  it('refuses an authenticated review that still carries an error', () => {
    const status: TokenReviewStatus = { ...reviewStatus('pod-bound'), error: 'partial failure' };
    expect(codeOf(() => checkTokenReview(status, 'hallmark'))).toBe('ERR_ATTEST_TOKEN_INVALID');
  });

  it('refuses pod extras that are not exactly one value', () => {
    for (const values of [[], ['a', 'b'], ['']]) {
      const status = structuredClone(reviewStatus('pod-bound'));
      status.user!.extra!['authentication.kubernetes.io/pod-uid'] = values;
      expect(codeOf(() => checkTokenReview(status, 'hallmark'))).toBe('ERR_ATTEST_TOKEN_INVALID');
    }
  });

  it('treats a token with only one of the pod extras as not pod-bound', () => {
    const status = structuredClone(reviewStatus('pod-bound'));
    delete status.user!.extra!['authentication.kubernetes.io/pod-name'];
    expect(codeOf(() => checkTokenReview(status, 'hallmark'))).toBe(
      'ERR_ATTEST_TOKEN_NOT_POD_BOUND',
    );
  });

  it('puts the API server error in the detail', () => {
    const err = errorOf(() => checkTokenReview(reviewStatus('expired'), 'hallmark'));
    expect((err as { detail?: string }).detail).toContain('service account token has expired');
  });
});

describe('parseServiceAccountUsername', () => {
  it('splits a service account username', () => {
    expect(parseServiceAccountUsername('system:serviceaccount:payments:api')).toEqual({
      namespace: 'payments',
      serviceAccount: 'api',
    });
  });

  it.each([
    'jane@example.com',
    'system:serviceaccount:payments',
    'system:serviceaccount:payments:api:extra',
    'system:serviceaccount::api',
    'system:serviceaccount:Payments:api',
    'system:serviceaccount:payments:API',
    'system:serviceaccounts:payments:api',
    `system:serviceaccount:${'a'.repeat(64)}:api`,
  ])('rejects %s', (username) => {
    expect(parseServiceAccountUsername(username)).toBeNull();
  });
});

describe('tokenClaimsAudience', () => {
  it('reads aud as a string or an array, and null for a non-JWT', () => {
    expect(tokenClaimsAudience(unsignedJwt({ aud: 'hallmark' }), 'hallmark')).toBe(true);
    expect(tokenClaimsAudience(unsignedJwt({ aud: ['x', 'hallmark'] }), 'hallmark')).toBe(true);
    expect(tokenClaimsAudience(unsignedJwt({ aud: ['x'] }), 'hallmark')).toBe(false);
    expect(tokenClaimsAudience(unsignedJwt({}), 'hallmark')).toBe(false);
    expect(tokenClaimsAudience('not.a.jwt', 'hallmark')).toBeNull();
  });
});
