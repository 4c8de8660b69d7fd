// What the sidecar bench reproduces of the pod: the reader of deploy/Dockerfile and the example's
// sidecar container must see the compiled entry, the args and the tuning the files hold.
import { describe, expect, it } from 'vitest';
import { COMPILED_ENTRY } from '../../scripts/build.js';
import { SIDECAR_VARIABLES } from '../../sidecar/index.js';
import { shippedSidecar, shippedSidecarContainer } from './shipped-sidecar.js';

describe('the sidecar as shipped (read for the bench)', () => {
  it('runs the compiled entry with the container args, relative to the image WORKDIR', () => {
    const shipped = shippedSidecar();
    expect(shipped.script).toBe(`dist/${COMPILED_ENTRY}`);
    expect(shipped.args).toEqual(['sidecar']);
    expect(shipped.nodeArgs).toEqual([]);
  });

  it("carries the image ENV and the container's non-configuration variables, nothing else", () => {
    const shipped = shippedSidecar();
    const container = shippedSidecarContainer();
    const tuning = (container.env ?? [])
      .filter((variable) => !SIDECAR_VARIABLES.includes(variable.name))
      .map((variable) => [variable.name, variable.value]);
    expect(shipped.env).toEqual({ NODE_ENV: 'production', ...Object.fromEntries(tuning) });
    for (const name of Object.keys(shipped.env)) expect(SIDECAR_VARIABLES).not.toContain(name);
    // The configuration is there, and is what the bench replaces.
    expect((container.env ?? []).map((variable) => variable.name)).toContain('HALLMARK_SERVER_URL');
  });
});
