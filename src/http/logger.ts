// The logger: pino JSON lines with redaction, so credentials never reach the log.
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear. Routes never log bodies, but a mistake in a
 * later change must still not leak a token, key or secret value.
 */
export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-broker-api-originating-identity"]',
  'headers.authorization',
  'authorization',
  'token',
  'api_key',
  'apiKey',
  'password',
  'value',
  'csr',
  'privateKey',
  '*.token',
  '*.api_key',
  '*.apiKey',
  '*.password',
  '*.value',
  '*.privateKey',
  '*.secrets',
];

/** The process logger: JSON lines on stdout with {@link REDACT_PATHS} blanked. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: [...REDACT_PATHS], censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
