import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_ACTIONS,
  NAMED_AUDIT_ACTIONS,
  chainHash,
  nextRecord,
  GENESIS_HASH,
  type AuditAction,
  type AuditRecord,
} from '../../src/audit/index.js';
import {
  OCSF_CLASSES,
  mappingOf,
  missingAttributes,
  toOcsfEvent,
  type OcsfEvent,
} from '../../src/ocsf/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Every action literal the code writes: `action: '…'`, keyring action tables, CA changes. */
async function actionsInCode(): Promise<Set<string>> {
  const found = new Set<string>();
  const files = [...(await sourceFiles('src')), ...(await sourceFiles('broker'))];
  const patterns = [
    /\baction: '([a-z0-9_]+\.[a-z0-9_.]+)'/g,
    /\b(?:bootstrapped|prepared|activated|dropped|distrusted): '([a-z0-9_]+\.[a-z0-9_.]+)'/g,
    /'(ca\.[a-z]+)'/g,
    /\| '(osb\.[a-z_.]+)'/g,
    /new BrokerCall\(\s*'([a-z_.]+)'/g,
    /(?:config\(|osbAction: )'(osb\.[a-z_.]+)'/g,
    /_ACTION(?:: \w+)? = '([a-z_]+\.[a-z_.]+)'/g,
    /#event\(\s*'([a-z_]+\.[a-z_.]+)'/g,
  ];
  for (const file of files) {
    if (file.endsWith('audit-actions.ts') || file.includes(`${path.sep}ocsf${path.sep}`)) continue;
    const text = await readFile(file, 'utf8');
    for (const pattern of patterns)
      for (const m of text.matchAll(pattern)) found.add(m[1] as string);
  }
  return found;
}

/** A plausible target for each action, in the shape its route writes. */
function targetFor(action: AuditAction): string {
  const targets: Partial<Record<AuditAction, string>> = {
    'authn.login': 'jti=5f0c',
    'authn.apikey': 'jti=77aa',
    'svid.x509.issued': 'spiffe://td/ns/a/sa/b serial=0a1b pod=1234',
    'svid.jwt.issued': 'aud=["db"] kid=k1',
    'secret.read': 'app/db@v2,app/api@v1',
    'secret.write': 'app/db@v3',
    'secret.denied': 'write app/db',
    'policy.load': 'policy@7',
    'osb.bind': 'osb/i-1/bindings/b-1 identity=spiffe://td/ns/other/sa/web namespace=team-a',
    'audit.sink.gap': 'sink=syslog missing=5-9',
  };
  return targets[action] ?? 'target';
}

function recordOf(action: AuditAction, outcome: 'success' | 'denied' | 'error'): AuditRecord {
  return nextRecord(
    { seq: 41, hash: GENESIS_HASH.replace(/0$/, '1') },
    {
      actor: 'spiffe://td/ns/a/sa/b',
      action,
      target: targetFor(action),
      outcome,
      reason: outcome === 'success' ? '' : 'ERR_POLICY_DENIED',
      requestId: 'req-1',
    },
    '2026-03-01T10:15:30.123Z',
  );
}

describe('the audit action registry', () => {
  it('holds every action the code writes, and nothing the code does not write', async () => {
    const inCode = await actionsInCode();
    const registry = new Set<string>(NAMED_AUDIT_ACTIONS);
    for (const action of inCode)
      expect(registry, `${action} is written but not registered`).toContain(action);
    const unwritten = NAMED_AUDIT_ACTIONS.filter(
      (a) => !inCode.has(a) && !['audit.sink.lag', 'audit.sink.gap'].includes(a),
    );
    expect(unwritten).toEqual([]);
  });

  it('uses syslog-safe names (RFC 5424 MSGID: 1*32 PRINTUSASCII)', () => {
    for (const action of AUDIT_ACTIONS) expect(action).toMatch(/^[\x21-\x7e]{1,32}$/);
  });
});

describe('OCSF events', () => {
  it('maps every registered action to a class and one of its activities', () => {
    for (const action of AUDIT_ACTIONS) {
      const mapping = mappingOf(action);
      expect(mapping, action).toBeDefined();
      const cls = OCSF_CLASSES[mapping!.class];
      expect(mapping!.activityId === 99 || mapping!.activityId in cls.activities, action).toBe(
        true,
      );
    }
  });

  it('gives every event of every action and outcome the attributes its class requires', () => {
    for (const action of AUDIT_ACTIONS) {
      for (const outcome of ['success', 'denied', 'error'] as const) {
        const event = toOcsfEvent(recordOf(action, outcome), { version: '0.1.0' });
        expect(missingAttributes(event), `${action} ${outcome}`).toEqual([]);
      }
    }
  });

  it('the requirement check catches an event without its class attributes', () => {
    const event = toOcsfEvent(recordOf('authn.login', 'success'), { version: '0.1.0' });
    const { user: _user, ...withoutUser } = event;
    expect(missingAttributes(withoutUser)).toEqual(['user.uid|user.name|user.account']);
    expect(missingAttributes({ ...event, type_uid: 1 })).toContain(
      'type_uid = class_uid * 100 + activity_id',
    );
  });

  it('carries the chain fields: the row hash recomputes from the event alone', () => {
    const record = recordOf('secret.read', 'success');
    const event = toOcsfEvent(record, { version: '0.1.0' }) as OcsfEvent & {
      metadata: Record<string, string>;
      unmapped: Record<string, string>;
      actor: { user: { uid: string } };
    };
    const recomputed = chainHash(event.unmapped['prev_hash'] as string, {
      seq: event.metadata.sequence as unknown as number,
      time: event.metadata['original_time'] as string,
      actor: event.actor.user.uid,
      action: event.metadata.event_code,
      target: event.unmapped['target'] as string,
      outcome: event.unmapped['outcome'] as string,
      reason: (event['status_code'] as string | undefined) ?? '',
      requestId: event.metadata['correlation_uid'] ?? '',
    });
    expect(recomputed).toBe(record.hash);
    expect(event.metadata.uid).toBe('42');
    expect(event.time).toBe(Date.parse('2026-03-01T10:15:30.123Z'));
  });

  it('names classes as the issue asks: logins Authentication, issuance and secrets API Activity', () => {
    const classOf = (action: AuditAction): number =>
      toOcsfEvent(recordOf(action, 'success'), { version: '0' }).class_uid;
    expect(classOf('authn.login')).toBe(3002);
    expect(classOf('authn.apikey')).toBe(3002);
    expect(classOf('svid.jwt.issued')).toBe(3002);
    expect(classOf('svid.x509.issued')).toBe(6003);
    expect(classOf('secret.read')).toBe(6003);
    expect(classOf('secret.write')).toBe(6003);
    expect(classOf('policy.load')).toBe(3004);
    expect(classOf('ca.activated')).toBe(3004);
    const denied = toOcsfEvent(recordOf('secret.denied', 'denied'), { version: '0' });
    expect(denied).toMatchObject({ activity_id: 3, type_uid: 600303, status_id: 2 });
    expect(denied['status_code']).toBe('ERR_POLICY_DENIED');
  });

  it('puts a cross-namespace binding in fields a rule can compare', () => {
    const event = toOcsfEvent(recordOf('osb.bind', 'success'), { version: '0' });
    expect(event).toMatchObject({
      class_uid: 3001,
      activity_id: 7,
      user: { uid: 'spiffe://td/ns/other/sa/web' },
      unmapped: { binding: { workload_namespace: 'other', context_namespace: 'team-a' } },
    });
  });
});

describe('docs/audit.md', () => {
  it('maps every named action exactly as the code does', async () => {
    const doc = await readFile(path.join(ROOT, 'docs/audit.md'), 'utf8');
    for (const action of NAMED_AUDIT_ACTIONS) {
      const mapping = mappingOf(action)!;
      const cls = OCSF_CLASSES[mapping.class];
      const row = `| \`${action}\` | ${cls.caption} (${cls.classUid}) | ${cls.activities[mapping.activityId] ?? 'Other'} (${mapping.activityId}) |`;
      expect(doc, action).toContain(row);
    }
  });
});
