// Checkpoints as a SIEM received them: JSON lines of CloudEvents, syslog messages or bare objects, pure.

/** The CloudEvents type the webhook sink gives a checkpoint. */
export const CHECKPOINT_EVENT_TYPE = 'io.hallmark.audit.checkpoint.v1';

/** One checkpoint found in the input: its JWS (the only part trusted) and where it was. */
export interface ReceivedCheckpoint {
  readonly line: number;
  readonly jws: string;
}

/** What a file held: the checkpoints, lines of other events skipped, and unusable lines. */
export interface ReceivedCheckpoints {
  readonly checkpoints: ReceivedCheckpoint[];
  readonly skipped: number;
  readonly problems: string[];
}

/** The JWS of a checkpoint event in any accepted shape, or undefined for another event. */
function jwsOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const event = value as Record<string, unknown>;
  // CloudEvents structured mode (one event, or one element of a batch body).
  if (event['type'] === CHECKPOINT_EVENT_TYPE) return jwsOf(event['data']);
  // The sinks' payload (`{"checkpoint": {...}}`): the syslog MSG, the CloudEvent's data.
  if (typeof event['checkpoint'] === 'object') return jwsOf(event['checkpoint']);
  // A bare checkpoint, as `GET /v1/audit/checkpoints` lists them.
  return typeof event['jws'] === 'string' ? event['jws'] : undefined;
}

// RFC 5424 §6: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID ` — MSGID `checkpoint`.
const SYSLOG_CHECKPOINT = /^(?:\d+ )?<\d{1,3}>1 \S+ \S+ hallmark \S+ checkpoint /;

/**
 * Reads checkpoints from JSON lines: each line a CloudEvent (or a batch array of them), the
 * sinks' JSON payload, a bare checkpoint, or a whole RFC 5424 message as a receiver wrote it
 * (optionally still octet-counted). Events that are not checkpoints are skipped; a line that is
 * neither JSON nor a Hallmark syslog message, or a checkpoint message without its body, is a
 * problem (the file is not what the operator thinks it is).
 */
export function readReceivedCheckpoints(text: string): ReceivedCheckpoints {
  const checkpoints: ReceivedCheckpoint[] = [];
  const problems: string[] = [];
  let skipped = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/^\uFEFF/, '').trim();
    const number = index + 1;
    if (line === '') return;
    if (!line.startsWith('{') && !line.startsWith('[')) {
      if (!SYSLOG_CHECKPOINT.test(line)) {
        if (/^(?:\d+ )?<\d{1,3}>1 /.test(line)) skipped += 1;
        else problems.push(`line ${number}: neither JSON nor an RFC 5424 message`);
        return;
      }
      const body = line.indexOf('{"checkpoint"');
      if (body === -1) {
        problems.push(`line ${number}: checkpoint message without its JSON body (msgOmitted)`);
        return;
      }
      const jws = parseJws(line.slice(body));
      if (jws === undefined) problems.push(`line ${number}: unreadable checkpoint body`);
      else checkpoints.push({ line: number, jws });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      problems.push(`line ${number}: not valid JSON`);
      return;
    }
    for (const element of Array.isArray(parsed) ? parsed : [parsed]) {
      const jws = jwsOf(element);
      if (jws === undefined) skipped += 1;
      else checkpoints.push({ line: number, jws });
    }
  });
  return { checkpoints, skipped, problems };
}

function parseJws(json: string): string | undefined {
  try {
    return jwsOf(JSON.parse(json));
  } catch {
    return undefined;
  }
}
