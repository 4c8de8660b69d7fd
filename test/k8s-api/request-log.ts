// The request log: every call the test API received, and which of them RBAC refused.

/** How authentication and RBAC judged a request. */
export type RequestOutcome = 'allowed' | 'forbidden' | 'unauthenticated';

/** One request the test API received. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Raw query string without `?`. */
  query: string;
  verb: string;
  apiGroup: string;
  /** Resource, with `/subresource` when there is one (`pods/log`). */
  resource: string;
  namespace: string;
  name: string;
  outcome: RequestOutcome;
  /** True only when authenticated and allowed by the RBAC manifest. */
  allowed: boolean;
}

/** Keeps requests in arrival order; refused ones are always kept, even with `recordAll` off. */
export class RequestLog {
  private readonly all: RecordedRequest[] = [];
  private readonly refused: RecordedRequest[] = [];

  constructor(private readonly recordAll: boolean) {}

  add(record: RecordedRequest): void {
    if (this.recordAll) this.all.push(record);
    if (!record.allowed) this.refused.push(record);
  }

  /** Every request (or only the refused ones when `recordAll` is off), copied. */
  requests(): RecordedRequest[] {
    return (this.recordAll ? this.all : this.refused).map((r) => ({ ...r }));
  }

  /** Requests that were unauthenticated or outside the RBAC manifest, copied. */
  unexpected(): RecordedRequest[] {
    return this.refused.map((r) => ({ ...r }));
  }

  clear(): void {
    this.all.length = 0;
    this.refused.length = 0;
  }

  /** Throws an Error listing every refused request, if there is any. */
  assertNoneUnexpected(): void {
    if (this.refused.length > 0) {
      const list = this.refused.map(
        (r) => `${r.method} ${r.path} (${r.verb} ${r.resource || 'non-resource'}: ${r.outcome})`,
      );
      throw new Error(`Kubernetes calls outside deploy/rbac.yaml:\n  ${list.join('\n  ')}`);
    }
  }
}
