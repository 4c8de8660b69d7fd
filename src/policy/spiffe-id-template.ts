// SPIFFE ID templates: a registration's `spiffeId`, compiled once and rendered per workload.
import { isHallmarkError } from '../errors/index.js';
import {
  VALIDATION_REASON,
  parseSpiffeId,
  validatePathSegment,
  type SpiffeId,
} from '../spiffe/index.js';
import {
  MAX_DNS1123_LABEL,
  MAX_DNS1123_SUBDOMAIN,
  MAX_LABEL_PART,
  labelKeyReason,
} from './kubernetes-names.js';

/** One piece of a compiled template path. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'namespace' }
  | { readonly kind: 'serviceAccount' }
  | { readonly kind: 'label'; readonly key: string };

/** A validated template: every rendering with valid Kubernetes names is a valid SPIFFE ID. */
export interface SpiffeIdTemplate {
  /** The template as written (or {@link DEFAULT_SPIFFE_ID_TEMPLATE}). */
  readonly source: string;
  /** The trust domain every rendered ID belongs to. */
  readonly trustDomain: string;
  /** The path, split into literal text and placeholders. */
  readonly parts: readonly TemplatePart[];
  /** Label keys the template reads; a pod must carry each with a non-empty value. */
  readonly labelKeys: readonly string[];
}

/** The values a template is rendered with: the attested workload's names and labels. */
export interface TemplateValues {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The template used when a registration has no `spiffeId`: the Istio/SPIRE convention. */
export const DEFAULT_SPIFFE_ID_TEMPLATE = '/ns/{namespace}/sa/{serviceAccount}';

const SCHEME = 'spiffe://';

/** The result of compiling a template: the template, or every reason it was refused. */
export type TemplateCompilation =
  | { readonly ok: true; readonly template: SpiffeIdTemplate }
  | { readonly ok: false; readonly reasons: readonly string[] };

/**
 * Compiles a template: either a full ID (`spiffe://<td>/...`, `<td>` being exactly the
 * server's trust domain) or a path (`/...`) in the server's trust domain. Placeholders, path
 * only: `{namespace}`, `{serviceAccount}`, `{label:<key>}`. There is no pod-name placeholder
 * on purpose: pods are ephemeral, identities should not be.
 *
 * Soundness: placeholder values are Kubernetes names, which only use SPIFFE path characters
 * and are never empty, `.` or `..`; so if the template renders a valid ID with the shortest
 * and with the longest names Kubernetes allows, it renders one for every workload.
 */
export function compileSpiffeIdTemplate(source: string, trustDomain: string): TemplateCompilation {
  if (source === '') return refused('must not be empty');
  const reasons: string[] = [];
  let path: string;
  if (source.startsWith(SCHEME)) {
    const slash = source.indexOf('/', SCHEME.length);
    const authority = source.slice(SCHEME.length, slash === -1 ? undefined : slash);
    if (/[{}]/.test(authority)) reasons.push('placeholders are only allowed in the path');
    else if (authority !== trustDomain) {
      reasons.push(
        spiffeIdReason(`${SCHEME}${authority}`) ??
          `trust domain "${authority}" is not this server's trust domain "${trustDomain}"`,
      );
    }
    path = slash === -1 ? '' : source.slice(slash);
  } else if (source.startsWith('/')) {
    path = source;
  } else {
    return refused('must be a spiffe:// ID or a path starting with "/"');
  }

  const parts = splitPlaceholders(path, reasons);
  if (path === '') reasons.push('must have a path: an SVID cannot name the trust domain itself');
  if (reasons.length > 0) return { ok: false, reasons };

  const template: SpiffeIdTemplate = Object.freeze({
    source,
    trustDomain,
    parts: Object.freeze(parts),
    labelKeys: Object.freeze([
      ...new Set(parts.flatMap((p) => (p.kind === 'label' ? [p.key] : []))),
    ]),
  });
  const shortest = spiffeIdReason(renderUnchecked(template, sampleValues(template, 1, 1, 1)));
  if (shortest !== undefined) return refused(`renders an invalid SPIFFE ID: ${shortest}`);
  const longest = renderUnchecked(
    template,
    sampleValues(template, MAX_DNS1123_LABEL, MAX_DNS1123_SUBDOMAIN, MAX_LABEL_PART),
  );
  const longReason = spiffeIdReason(longest);
  if (longReason !== undefined) {
    return refused(
      longReason === VALIDATION_REASON.idTooLong
        ? 'can render IDs longer than 2048 bytes for the longest namespace, service account or label value'
        : `renders an invalid SPIFFE ID: ${longReason}`,
    );
  }
  return { ok: true, template };
}

/**
 * Renders the SPIFFE ID for a workload, or `undefined` when the workload lacks a label the
 * template reads (or a value is not a single valid path segment, which Kubernetes names
 * never are, but a default-deny core does not take that on trust).
 */
export function renderSpiffeId(
  template: SpiffeIdTemplate,
  values: TemplateValues,
): SpiffeId | undefined {
  for (const key of template.labelKeys) {
    const value = Object.hasOwn(values.labels, key) ? values.labels[key] : undefined;
    if (value === undefined || value === '') return undefined;
  }
  try {
    for (const part of template.parts) {
      if (part.kind !== 'text') validatePathSegment(valueOf(part, values));
    }
    return parseSpiffeId(renderUnchecked(template, values));
  } catch (err) {
    if (isHallmarkError(err)) return undefined;
    throw err;
  }
}

function valueOf(part: Exclude<TemplatePart, { kind: 'text' }>, values: TemplateValues): string {
  switch (part.kind) {
    case 'namespace':
      return values.namespace;
    case 'serviceAccount':
      return values.serviceAccount;
    case 'label':
      return values.labels[part.key] ?? '';
  }
}

function renderUnchecked(template: SpiffeIdTemplate, values: TemplateValues): string {
  let path = '';
  for (const part of template.parts)
    path += part.kind === 'text' ? part.text : valueOf(part, values);
  return `${SCHEME}${template.trustDomain}${path}`;
}

function sampleValues(
  template: SpiffeIdTemplate,
  namespaceLength: number,
  serviceAccountLength: number,
  labelLength: number,
): TemplateValues {
  const labels: Record<string, string> = {};
  for (const key of template.labelKeys) labels[key] = 'a'.repeat(labelLength);
  return {
    namespace: 'a'.repeat(namespaceLength),
    serviceAccount: 'a'.repeat(serviceAccountLength),
    labels,
  };
}

/** Splits a template path into text and placeholders, recording every malformed placeholder. */
function splitPlaceholders(path: string, reasons: string[]): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '}') {
      reasons.push(`"}" at offset ${i} closes no placeholder`);
      continue;
    }
    if (c !== '{') {
      text += c;
      continue;
    }
    const close = path.indexOf('}', i + 1);
    const nextOpen = path.indexOf('{', i + 1);
    if (close === -1 || (nextOpen !== -1 && nextOpen < close)) {
      reasons.push(`"{" at offset ${i} is not closed`);
      continue;
    }
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
    const placeholder = parsePlaceholder(path.slice(i + 1, close), reasons);
    if (placeholder !== undefined) parts.push(placeholder);
    i = close;
  }
  if (text !== '') parts.push({ kind: 'text', text });
  return parts;
}

function parsePlaceholder(name: string, reasons: string[]): TemplatePart | undefined {
  if (name === 'namespace') return { kind: 'namespace' };
  if (name === 'serviceAccount') return { kind: 'serviceAccount' };
  if (name.startsWith('label:')) {
    const key = name.slice('label:'.length);
    const reason = labelKeyReason(key);
    if (reason === undefined) return { kind: 'label', key };
    reasons.push(`placeholder {${name}}: ${reason}`);
    return undefined;
  }
  reasons.push(
    `unknown placeholder {${name}} (known: {namespace}, {serviceAccount}, {label:<key>})`,
  );
  return undefined;
}

/** The SPIFFE parser's reason for refusing `id` (go-spiffe wording), or `undefined`. */
function spiffeIdReason(id: string): string | undefined {
  try {
    parseSpiffeId(id);
    return undefined;
  } catch (err) {
    if (isHallmarkError(err)) return err.message;
    throw err;
  }
}

function refused(reason: string): TemplateCompilation {
  return { ok: false, reasons: [reason] };
}
