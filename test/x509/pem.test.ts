// PEM armour: strict base64, matching labels, several blocks, text around blocks.
import { describe, expect, it } from 'vitest';
import { MalformedDerError } from '../../src/x509/der-reader.js';
import {
  decodeCertificates,
  decodePemBlocks,
  decodeSinglePem,
  encodePem,
} from '../../src/x509/pem.js';

const der = Buffer.from(Array.from({ length: 100 }, (_, i) => i));

describe('PEM', () => {
  it('round-trips with 64-character lines (RFC 7468)', () => {
    const pem = encodePem(der, 'CERTIFICATE');
    expect(pem.split('\n').every((line) => line.length <= 64)).toBe(true);
    expect(decodeSinglePem(pem, ['CERTIFICATE'])).toEqual(der);
  });

  it('reads several blocks and ignores text between them', () => {
    const text = `subject=CN x\n${encodePem(der, 'CERTIFICATE')}junk\n${encodePem(der.subarray(1), 'CERTIFICATE')}`;
    expect(decodeCertificates([text])).toEqual([der, der.subarray(1)]);
    expect(decodePemBlocks(text)).toHaveLength(2);
  });

  it.each([
    ['mismatched labels', encodePem(der, 'CERTIFICATE').replace('END CERTIFICATE', 'END X')],
    ['characters outside base64', encodePem(der, 'CERTIFICATE').replace(/\n(.)/, '\n$1$')],
    ['an empty body', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'],
  ])('refuses %s', (_, pem) => {
    expect(() => decodeCertificates([pem])).toThrow(MalformedDerError);
  });

  it('wants the expected label and exactly one block', () => {
    const pem = encodePem(der, 'PRIVATE KEY');
    expect(() => decodeSinglePem(pem, ['CERTIFICATE'])).toThrow(MalformedDerError);
    expect(() => decodeCertificates([pem])).toThrow(MalformedDerError);
    expect(() => decodeSinglePem(pem + pem, ['PRIVATE KEY'])).toThrow(MalformedDerError);
    expect(() => decodeCertificates([''])).toThrow(MalformedDerError);
  });
});
