// DER building and reading: minimal integers, named bits, times, and strict length handling.
import { describe, expect, it } from 'vitest';
import {
  derChildren,
  MalformedDerError,
  parseDer,
  unsignedIntegerOf,
} from '../../src/x509/der-reader.js';
import {
  encode,
  namedBits,
  preEncoded,
  sequence,
  time,
  unsignedInteger,
} from '../../src/x509/der-writer.js';
import { ipAddressBytes } from '../../src/x509/extension-builder.js';

const hex = (b: Buffer) => b.toString('hex');

describe('der-writer', () => {
  it.each([
    ['01', '020101'],
    ['0001', '020101'],
    ['80', '02020080'],
    ['00ff', '020200ff'],
    ['7fff', '02027fff'],
  ])('encodes magnitude %s minimally as %s', (magnitude, der) => {
    expect(hex(encode(unsignedInteger(Buffer.from(magnitude, 'hex'))))).toBe(der);
  });

  // @see RFC 5280 §4.2.1.3 bit numbers; X.690 §11.2.2 trailing zero bits removed
  it.each([
    [[0], '03020780'],
    [[0, 2], '030205a0'],
    [[5, 6], '03020106'],
    [[0, 8], '0303078080'],
  ])('encodes key usage bits %j as %s', (bits, der) => {
    expect(hex(encode(namedBits(bits)))).toBe(der);
  });

  it('switches from UTCTime to GeneralizedTime in 2050 (RFC 5280 §4.1.2.5)', () => {
    expect(encode(time(new Date(Date.UTC(2049, 11, 31, 23, 59, 59)))).toString('latin1')).toBe(
      '\x17\x0d491231235959Z',
    );
    expect(encode(time(new Date(Date.UTC(2050, 0, 1)))).toString('latin1')).toBe(
      '\x18\x0f20500101000000Z',
    );
  });

  it('carries pre-encoded elements byte for byte', () => {
    const inner = encode(sequence([unsignedInteger(Buffer.from([5]))]));
    expect(encode(sequence([preEncoded(inner)]))).toEqual(
      Buffer.concat([Buffer.from([0x30, inner.length]), inner]),
    );
  });

  it.each([
    ['127.0.0.1', '7f000001'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::10', '20010db8000000000000000000000010'],
    ['fe80::', 'fe800000000000000000000000000000'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
  ])('encodes IP %s as %s', (ip, bytes) => {
    expect(hex(ipAddressBytes(ip))).toBe(bytes);
  });
});

describe('der-reader', () => {
  it.each([
    ['indefinite length', '3080020101 0000'],
    ['non-minimal short length', '30810302 0101'],
    ['leading zero length byte', '3082000302 0101'],
    ['overrun', '3005020101'],
    ['trailing bytes', '3003020101 00'],
    ['high tag number', '1f0100'],
  ])('refuses %s', (_, bytes) => {
    const der = Buffer.from(bytes.replace(/ /g, ''), 'hex');
    expect(() => derChildren(der)).toThrow(MalformedDerError);
  });

  it('slices children exactly', () => {
    const der = Buffer.from('3006020101020102', 'hex');
    expect(derChildren(der).map(hex)).toEqual(['020101', '020102']);
  });

  it.each([
    ['negative', '0201ff'],
    ['non-minimal', '02020001'],
    ['empty', '0200'],
  ])('refuses a %s INTEGER', (_, bytes) => {
    expect(() => unsignedIntegerOf(parseDer(Buffer.from(bytes, 'hex')), 'n')).toThrow(
      MalformedDerError,
    );
  });

  it('reads a positive INTEGER without its sign byte', () => {
    expect(hex(unsignedIntegerOf(parseDer(Buffer.from('02020080', 'hex')), 'n'))).toBe('80');
  });
});
