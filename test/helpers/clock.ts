/** A clock tests move by hand: expiry is tested by moving time, never by sleeping. */
import type { Clock } from '../../src/types.js';

export class MovableClock implements Clock {
  constructor(private ms: number = Date.parse('2025-01-01T00:00:00Z')) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
  set(date: Date): void {
    this.ms = date.getTime();
  }
}
