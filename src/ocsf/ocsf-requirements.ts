// Checks an event against the attributes its OCSF class requires (the facts in ocsf-classes.ts).
import { BASE_EVENT_REQUIRES, OCSF_CLASSES, type Requirement } from './ocsf-classes.js';

function valueAt(event: unknown, path: string): unknown {
  let value: unknown = event;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function present(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/**
 * The requirements an event misses: the base event's and its class's (each printed as its
 * alternatives joined by `|`). Empty when the event carries everything its class requires.
 */
export function missingAttributes(event: Record<string, unknown>): string[] {
  const cls = Object.values(OCSF_CLASSES).find((c) => c.classUid === event['class_uid']);
  if (cls === undefined) return ['class_uid'];
  const requirements: Requirement[] = [...BASE_EVENT_REQUIRES, ...cls.requires];
  const missing = requirements.filter((alternatives) =>
    alternatives.every((path) => !present(valueAt(event, path))),
  );
  const problems = missing.map((alternatives) => alternatives.join('|'));
  if (event['type_uid'] !== cls.classUid * 100 + Number(event['activity_id']))
    problems.push('type_uid = class_uid * 100 + activity_id');
  if (event['category_uid'] !== cls.categoryUid) problems.push('category_uid of the class');
  const activity = Number(event['activity_id']);
  if (activity !== 99 && !(activity in cls.activities)) problems.push('activity_id of the class');
  return problems;
}
