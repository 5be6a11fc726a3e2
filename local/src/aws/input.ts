/**
 * Reading members of a JSON-protocol request. A member of the wrong JSON type is what AWS answers
 * with `SerializationException`; a missing required member is a `ValidationException`.
 */
import { AwsError, validationError } from './errors.js';

export type Input = Record<string, unknown>;

function wrongType(member: string, expected: string): AwsError {
  return new AwsError('SerializationException', `${member} must be ${expected}`);
}

export function optionalString(input: Input, member: string): string | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw wrongType(member, 'a string');
  return value;
}

export function requiredString(input: Input, member: string): string {
  const value = optionalString(input, member);
  if (value === undefined) {
    throw validationError('null', lowerFirst(member), 'Member must not be null');
  }
  return value;
}

export function optionalBoolean(input: Input, member: string): boolean | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw wrongType(member, 'a boolean');
  return value;
}

export function optionalInteger(input: Input, member: string): number | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(member, 'an integer');
  return value;
}

export function optionalStringList(input: Input, member: string): string[] | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw wrongType(member, 'a list of strings');
  }
  return value as string[];
}

export function requiredStringList(input: Input, member: string): string[] {
  const value = optionalStringList(input, member);
  if (value === undefined) throw validationError('null', lowerFirst(member), 'Member must not be null');
  return value;
}

export function optionalObject(input: Input, member: string): Input | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw wrongType(member, 'an object');
  return value as Input;
}

export function optionalObjectList(input: Input, member: string): Input[] | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (
    !Array.isArray(value) ||
    value.some((item) => typeof item !== 'object' || item === null || Array.isArray(item))
  ) {
    throw wrongType(member, 'a list of objects');
  }
  return value as Input[];
}

/** AWS names members in validation messages in camelCase: `Names` → `names`. */
export function lowerFirst(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

/** Epoch seconds with millisecond precision, the JSON protocol's timestamp form. */
export function epochSeconds(ms: number): number {
  return Math.round(ms) / 1000;
}
