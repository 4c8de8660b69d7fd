// google.protobuf.Struct: JSON values in the object form proto-loader serialises (JWT claims).

/** A `google.protobuf.Value`: exactly one of its `kind` members. */
export type ProtoValue =
  | { readonly nullValue: 'NULL_VALUE' }
  | { readonly numberValue: number }
  | { readonly stringValue: string }
  | { readonly boolValue: boolean }
  | { readonly structValue: ProtoStruct }
  | { readonly listValue: { readonly values: readonly ProtoValue[] } };

/** A `google.protobuf.Struct`: a JSON object. */
export interface ProtoStruct {
  readonly fields: Readonly<Record<string, ProtoValue>>;
}

/** Deeper than any JWT payload; bounds the recursion on hostile input. */
const MAX_DEPTH = 32;

function toValue(value: unknown, depth: number): ProtoValue {
  if (depth > MAX_DEPTH) throw new RangeError('JSON value nested too deeply for a Struct');
  if (value === null) return { nullValue: 'NULL_VALUE' };
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      // Struct numbers are doubles; JSON has no NaN or Infinity, so nothing is lost.
      if (!Number.isFinite(value)) throw new RangeError('a Struct number must be finite');
      return { numberValue: value };
    case 'object':
      return Array.isArray(value)
        ? { listValue: { values: value.map((item) => toValue(item, depth + 1)) } }
        : { structValue: structOf(value as Record<string, unknown>, depth + 1) };
    default:
      throw new RangeError(`a ${typeof value} has no Struct form`);
  }
}

function structOf(object: Readonly<Record<string, unknown>>, depth: number): ProtoStruct {
  const fields: Record<string, ProtoValue> = {};
  for (const [key, value] of Object.entries(object)) {
    // Absent is how JSON says undefined (proto3 JSON mapping drops such members too).
    if (value !== undefined) fields[key] = toValue(value, depth);
  }
  return { fields };
}

/**
 * The Struct form of a JSON object (a verified JWT payload), following the proto3 JSON mapping
 * of `google.protobuf.Struct`: null, number, string, boolean, object and array map to their
 * `Value` kinds.
 * @throws RangeError for values JSON cannot hold (functions, non-finite numbers) or absurd nesting.
 */
export function toProtoStruct(object: Readonly<Record<string, unknown>>): ProtoStruct {
  return structOf(object, 0);
}
