// A lower tier-up budget for the length of the warm-up. V8 marks a function for TurboFan after it has run
// (3 + its bytecode length / 150) times --interrupt-budget bytes of its own bytecode: a large handler such as
// the passthrough's finishNew needs about 1500 calls, more than a warm-up of a few rounds makes, and was then
// marked and compiled during the first real requests (23 ms of TurboFan in the bench's mkdir phase,
// --trace-opt). With the budget lowered while the twin is walked, the same walk gets the functions it runs
// compiled; the usual budget is back once the walk ends, for everything else the process runs.
// V8's flags are the process's: while the budget is low, the main thread's code tiers up sooner too.

import { setFlagsFromString } from 'node:v8';

/** The walk's budget, a fraction of the usual. */
const WARM_UP_DIVISOR = 8;
/** --interrupt-budget's default in V8 11 (Node 20); another V8 keeps its own and is not changed. */
const V8_11_INTERRUPT_BUDGET = 67584;

/** The process's --interrupt-budget (node's flags or NODE_OPTIONS), V8 11's default otherwise; undefined for another V8. */
function usualBudget(): number | undefined {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
    .map((a) => /^--interrupt[-_]budget=(\d+)$/.exec(a))
    .find((m) => m !== null);
  if (given) return Number(given[1]);
  return process.versions.v8.startsWith('11.') ? V8_11_INTERRUPT_BUDGET : undefined;
}

/** Lowers the budget; the function it returns puts the usual one back (once; later calls do nothing). */
export function lowerTierUpBudget(): () => void {
  const usual = usualBudget();
  if (usual === undefined) return () => undefined;
  setFlagsFromString(`--interrupt-budget=${Math.max(1024, Math.floor(usual / WARM_UP_DIVISOR))}`);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    setFlagsFromString(`--interrupt-budget=${usual}`);
  };
}
