/** The demo organization's shape: its traffic, its ticket mix and its team, shared by the history and the simulator. */
import type { Priority } from '../metrics/dimensions.js';

export type Weighted<T> = readonly (readonly [T, number])[];

/** Relative traffic by local hour: quiet nights, a morning peak, a lunch dip, an afternoon plateau. */
export const HOURLY = [
  0.15, 0.12, 0.1, 0.1, 0.12, 0.18, 0.3, 0.55, 0.95, 1.4, 1.5, 1.4, 1.1, 1.3, 1.35, 1.3, 1.2, 0.9, 0.6, 0.45, 0.4, 0.35,
  0.28, 0.2,
];
/** Relative traffic by ISO weekday (Monday first): Mondays carry the weekend's backlog. */
export const WEEKDAY = [1.2, 1.1, 1.05, 1.0, 0.9, 0.35, 0.3];
/** Ticket mix (slugs the API accepts): weights, not percentages. */
export const CATEGORIES: Weighted<string> = [
  ['technical', 30],
  ['billing', 22],
  ['account', 18],
  ['general', 14],
  ['onboarding', 9],
  ['feature_request', 7],
];
/** Phones and chats are staffed in business hours only. */
export const CHANNELS_OPEN_HOURS: Weighted<string> = [
  ['email', 34],
  ['chat', 30],
  ['web', 16],
  ['phone', 15],
  ['slack', 5],
];
export const CHANNELS_CLOSED_HOURS: Weighted<string> = [
  ['email', 50],
  ['web', 36],
  ['chat', 8],
  ['slack', 6],
];
export const PRIORITIES: Weighted<Priority> = [
  ['low', 25],
  ['medium', 45],
  ['high', 22],
  ['urgent', 8],
];
/** The team: a few seniors take most tickets, juniors few. */
export const AGENTS: Weighted<string> = [
  ['amara', 14],
  ['ben', 12],
  ['chloe', 12],
  ['diego', 10],
  ['elif', 10],
  ['farid', 9],
  ['grace', 8],
  ['hiro', 8],
  ['ines', 7],
  ['jonas', 5],
  ['kofi', 3],
  ['lena', 2],
];
