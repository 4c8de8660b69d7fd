// npm audit's JSON (report version 2) as the dependency control reads it: canned reports and one real run.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditDependencies, hallmarkPackageRoot } from '../../src/cli/dependency-audit-run.js';
import { systemClock } from '../../src/clock/index.js';
import { CONTROLS, parseNpmAudit } from '../../src/compliance/index.js';
import { REPO_ROOT } from '../deploy/deploy-files.js';
import { compliantSnapshot } from './snapshot-fixture.js';

const fixture = (name: string): string =>
  readFileSync(path.join(REPO_ROOT, 'test/fixtures/compliance', name), 'utf8');
const context = { auditedAt: 1, packageVersion: '0.1.0', lockfileSha256: 'a'.repeat(64) };
const control = CONTROLS.find((c) => c.id === 'HM-DEP-01')!;

describe('npm audit reports', () => {
  it('lists vulnerable packages with their advisories and what they come through', () => {
    const audit = parseNpmAudit(fixture('npm-audit-vulnerable.json'), context);
    expect(audit.ran).toBe(true);
    if (!audit.ran) return;
    expect(audit.dependencies).toBe(81);
    expect(audit.counts).toEqual({ info: 0, low: 1, moderate: 0, high: 2, critical: 0 });
    expect(audit.packages.map((p) => [p.name, p.severity, p.fixAvailable])).toEqual([
      ['tiny', 'low', false],
      ['wrapper', 'high', true],
      ['yaml-ish', 'high', true],
    ]);
    expect(audit.packages[1]!.through).toEqual(['yaml-ish']);
    expect(audit.packages[2]!.advisories[0]).toMatchObject({
      title: 'Prototype pollution in merge keys',
      url: 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc',
    });
    const verdict = control.evaluate({ ...compliantSnapshot(), dependencies: audit });
    expect(verdict.status).toBe('fail');
    expect(verdict.reason).toMatch(
      /wrapper 1\.0\.0 - 1\.4\.2 \(high\).*yaml-ish <2\.3\.1 \(high: Prototype pollution/,
    );
  });

  it('a clean report passes', () => {
    const audit = parseNpmAudit(fixture('npm-audit-clean.json'), context);
    const verdict = control.evaluate({ ...compliantSnapshot(), dependencies: audit });
    expect(verdict).toMatchObject({ status: 'pass' });
    expect(verdict.reason).toMatch(/81 production dependencies/);
  });

  it('an unreachable registry or a refused advisory request is not applicable, with the reason', () => {
    const offline = parseNpmAudit(fixture('npm-audit-offline.json'), context);
    expect(offline).toMatchObject({ ran: false, reason: expect.stringMatching(/ENOTFOUND/) });
    const refused = parseNpmAudit(
      JSON.stringify({
        message:
          '405 Method Not Allowed - POST https://registry.example/-/npm/v1/security/advisories/bulk',
        statusCode: 405,
      }),
      context,
    );
    expect(refused).toMatchObject({
      ran: false,
      reason: expect.stringMatching(/405 Method Not Allowed/),
    });
    expect(parseNpmAudit('npm ERR! something', context)).toMatchObject({ ran: false });
    for (const audit of [offline, refused]) {
      expect(control.evaluate({ ...compliantSnapshot(), dependencies: audit }).status).toBe(
        'not-applicable',
      );
    }
  });

  it("runs the real npm audit on this checkout: a report, or not applicable with the registry's answer", async () => {
    expect(await hallmarkPackageRoot()).toBe(REPO_ROOT);
    const audit = await auditDependencies(systemClock);
    expect(audit.lockfileSha256).toMatch(/^[0-9a-f]{64}$/);
    const verdict = control.evaluate({ ...compliantSnapshot(), dependencies: audit });
    if (audit.ran) {
      expect(audit.dependencies).toBeGreaterThan(10);
      expect(['pass', 'fail']).toContain(verdict.status);
    } else {
      // The registry this machine reaches may not serve the advisory endpoint.
      expect(verdict.status).toBe('not-applicable');
      expect(verdict.reason.length).toBeGreaterThan(20);
    }
    console.info(`real npm audit: ${verdict.status}: ${verdict.reason}`);
  }, 150_000);

  it('without a lockfile the audit does not run', async () => {
    const audit = await auditDependencies(
      systemClock,
      path.join(REPO_ROOT, 'test/fixtures/compliance'),
    );
    expect(audit).toMatchObject({
      ran: false,
      reason: expect.stringMatching(/no package-lock.json/),
    });
  });
});
