// The logger: pino with redaction, JSON lines for machines or pretty lines for a terminal.
import { LogController, type FastifyRequest } from 'fastify';
import { destination as fileDestination, pino, type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

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

/** How log lines look: one JSON object per line, or pino-pretty's human-readable lines. */
export type LogFormat = 'json' | 'pretty';

/** Options of {@link createLogger}. */
export interface LogStyle {
  /** Default `json`. */
  format?: LogFormat;
  /** ANSI colours in `pretty` lines (a terminal); default false. */
  colorize?: boolean;
}

/**
 * The format `HALLMARK_LOG_FORMAT` asks for: `json` and `pretty` as said; `auto` is pretty
 * only when a person is watching (stdout is a terminal), so containers keep JSON.
 */
export function logFormatFor(configured: 'auto' | LogFormat, stdoutIsTty: boolean): LogFormat {
  if (configured === 'auto') return stdoutIsTty ? 'pretty' : 'json';
  return configured;
}

/**
 * The process logger on stdout (or `destination`) with {@link REDACT_PATHS} blanked. Pretty
 * lines are formatted synchronously after redaction, so they carry no more than JSON would.
 */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  style: LogStyle = {},
): Logger {
  const options = { level, redact: { paths: [...REDACT_PATHS], censor: '[redacted]' } };
  if (style.format === 'pretty') {
    const prettify = prettyFactory({
      colorize: style.colorize ?? false,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
    });
    const out = destination ?? fileDestination({ dest: 1, sync: true });
    return pino(options, { write: (line: string) => void out.write(prettify(line)) });
  }
  return destination ? pino(options, destination) : pino(options);
}

// Kubernetes calls these every few seconds per probe: at info they would drown the log.
const PROBE_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

function isQuiet(request: FastifyRequest): boolean {
  return PROBE_ROUTES.has(request.routeOptions.url ?? '');
}

/**
 * One info line per request instead of fastify's two: "request completed" carries the request
 * (method, URL, address, id) beside the status and time, and "incoming request" is at debug. At
 * thousands of requests a second each line's serialisation, redaction and write cost about as
 * much as a TokenReview's parse. Health probes and metrics scrapes log both lines at debug only,
 * and a failing request keeps fastify's error line.
 */
export class RequestLogController extends LogController {
  override incomingRequest(
    request: FastifyRequest,
    _reply: Parameters<LogController['incomingRequest']>[1],
  ): void {
    if (this.isLogDisabled(request)) return;
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: Parameters<LogController['requestCompleted']>[2],
  ): void {
    if (error) return super.requestCompleted(error, request, reply);
    if (this.isLogDisabled(request)) return;
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (isQuiet(request)) reply.log.debug(line, 'request completed');
    else reply.log.info(line, 'request completed');
  }
}
