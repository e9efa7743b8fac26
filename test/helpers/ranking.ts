import type { Ranking } from '../../src/tasks/index.js';

/** What a suspect's family evidence needs for the classifier's features (the rest of `FamilyEvidence` is not read). */
export interface FakeFamily {
  family: string;
  z: number;
  items: unknown[];
}

/** A localizer ranking of the given suspects (first = top), as `suspectFeatures` reads it. */
export function fakeRanking(services: { service: string; score: number; evidence: FakeFamily[] }[]): Ranking {
  return { range: { start: 0, end: 1 }, families: [], pods: [], services } as unknown as Ranking;
}

/** An evidence item of `family` at service `a`, with its deviation (and how it splits by kind). */
export const fakeItem = (family: string, subject: string, deviation: number, kinds?: Record<string, number>) => ({ family, service: 'a', subject, value: 0, reference: 0, deviation, ...(kinds ? { kinds } : {}) });
