/** The three kinds of setting (whole number, switch, checked string), each carrying its documentation. */
import { z } from 'zod';

export type SettingType = 'integer' | 'number' | 'boolean' | 'string';
export type SettingValue = number | boolean | string;

export interface SettingDoc {
  description: string;
  /** What the key accepts, as a phrase: "a whole number from 1 to 100". */
  allowed: string;
}

export const docs = z.registry<SettingDoc>();

export function integerSetting(min: number, max: number, fallback: number, description: string) {
  const range = `must be between ${min} and ${max}`;
  const whole = `must be a whole number between ${min} and ${max}`;
  return z
    .number({ error: whole })
    .int({ error: whole })
    .min(min, { error: range })
    .max(max, { error: range })
    .default(fallback)
    .register(docs, { description, allowed: `a whole number from ${min} to ${max}` });
}

/** A decimal number such as a share of a lifetime (0.66). */
export function numberSetting(min: number, max: number, fallback: number, description: string) {
  const range = `must be a number from ${min} to ${max}`;
  return z
    .number({ error: range })
    .min(min, { error: range })
    .max(max, { error: range })
    .default(fallback)
    .register(docs, { description, allowed: `a number from ${min} to ${max}, such as ${fallback}` });
}

export function booleanSetting(fallback: boolean, description: string) {
  return z
    .boolean({ error: 'must be true or false' })
    .default(fallback)
    .register(docs, { description, allowed: 'true or false' });
}

/** A string setting whose `check` returns null when the value is fine, else why it is not. */
export function stringSetting(
  fallback: string,
  allowed: string,
  description: string,
  check: (value: string) => string | null,
) {
  return z
    .string({ error: `must be a string: ${allowed}` })
    .max(4096, { error: 'must be at most 4096 characters long' })
    .superRefine((value, ctx) => {
      const why = check(value);
      if (why !== null) ctx.addIssue({ code: 'custom', message: why });
    })
    .default(fallback)
    .register(docs, { description, allowed });
}

/** A check from a parser that throws an Error saying what is wrong. */
export function checkBy(parse: (value: string) => unknown): (value: string) => string | null {
  return (value) => {
    try {
      parse(value);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };
}
