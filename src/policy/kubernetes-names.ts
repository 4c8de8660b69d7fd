// Kubernetes name syntax for selectors: namespaces, service accounts, label keys and values.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Longest DNS-1123 label (namespace names), per Kubernetes `IsDNS1123Label`. */
export const MAX_DNS1123_LABEL = 63;
/** Longest DNS-1123 subdomain (service account names, label key prefixes). */
export const MAX_DNS1123_SUBDOMAIN = 253;
/** Longest label value, and longest label key name part. */
export const MAX_LABEL_PART = 63;

/**
 * Why `name` is not a namespace name (a DNS-1123 label), or `undefined`.
 * @see Kubernetes apimachinery validation `IsDNS1123Label`
 */
export function namespaceNameReason(name: string): string | undefined {
  if (name.length > MAX_DNS1123_LABEL) return `must be at most ${MAX_DNS1123_LABEL} characters`;
  if (!DNS1123_LABEL.test(name)) {
    return 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit';
  }
  return undefined;
}

/**
 * Why `name` is not a service account name (a DNS-1123 subdomain), or `undefined`.
 * @see Kubernetes apimachinery validation `IsDNS1123Subdomain`
 */
export function serviceAccountNameReason(name: string): string | undefined {
  if (name.length > MAX_DNS1123_SUBDOMAIN) {
    return `must be at most ${MAX_DNS1123_SUBDOMAIN} characters`;
  }
  if (!DNS1123_SUBDOMAIN.test(name)) {
    return 'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", each part starting and ending with a letter or digit';
  }
  return undefined;
}

/**
 * Why `key` is not a label key (`[prefix/]name`), or `undefined`.
 * @see Kubernetes apimachinery validation `IsQualifiedName`
 */
export function labelKeyReason(key: string): string | undefined {
  const slash = key.indexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (slash !== -1) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0) return 'label key prefix must not be empty';
    if (prefix.length > MAX_DNS1123_SUBDOMAIN || !DNS1123_SUBDOMAIN.test(prefix)) {
      return 'label key prefix must be a DNS-1123 subdomain of at most 253 characters';
    }
  }
  if (name.length === 0) return 'label key name must not be empty';
  if (name.length > MAX_LABEL_PART) {
    return `label key name must be at most ${MAX_LABEL_PART} characters`;
  }
  if (!QUALIFIED_NAME.test(name)) {
    return 'label key name must use letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
  }
  return undefined;
}

/**
 * Why `value` is not a label value, or `undefined`. The empty string is a valid value.
 * @see Kubernetes apimachinery validation `IsValidLabelValue`
 */
export function labelValueReason(value: string): string | undefined {
  if (value.length > MAX_LABEL_PART) {
    return `label value must be at most ${MAX_LABEL_PART} characters`;
  }
  if (value !== '' && !QUALIFIED_NAME.test(value)) {
    return 'label value must use letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
  }
  return undefined;
}
