import type { EncodedWindow } from '../../src/model/index.js';
import type { EvalSetup } from '../../src/eval/index.js';

/**
 * A copy of `setup` whose fold-`fold` labels are corrupted — types, root causes and every
 * window's abnormal flag — for the tests that show no test-fold label reaches a fit.
 */
export function corrupt(setup: EvalSetup, fold: number): EvalSetup {
  const swap = new Map<EncodedWindow, EncodedWindow>();
  const windows = setup.windows.map((w, i) => {
    const c = setup.windowFolds[i] === fold ? { ...w, label: { abnormal: !w.label.abnormal, rootCause: 'nobody', rootCauseService: 'nobody', type: 'nothing' } } : w;
    swap.set(w, c);
    return c;
  });
  const at = (w: EncodedWindow) => swap.get(w) ?? w;
  const services = setup.services;
  const cases = setup.cases.map((c, i) =>
    c.fold === fold ? { ...c, type: `fake-${i % 2}`, service: services[(services.indexOf(c.service) + 1 + i) % services.length], pod: 'fake-pod', w: at(c.w) } : { ...c, w: at(c.w) },
  );
  const detection = setup.detection.map((d) => ({ ...d, windows: d.windows.map(at), injections: d.injections.filter((f) => f.fold !== fold) }));
  return { ...setup, windows, cases, detection };
}
