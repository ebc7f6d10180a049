import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest on a 2-core machine, longest first (measured with
 * `npx vitest run --reporter=json`). Vitest orders files by their last duration when it has a cache
 * of them, and by file size when it has none, as on a clean clone: there the small, CPU-bound sim
 * suites came last and ran on alone after every other file had finished. Starting the long files
 * first keeps all workers busy to the end.
 */
const LONGEST_FIRST = [
  'test/queue/queued-rollout.test.ts',
  'test/cli/cli.test.ts',
  'test/service/remote-planning.test.ts',
  'test/model/onnx-planner.test.ts',
  'test/service/worker.test.ts',
  'test/web/run-page.test.ts',
  'test/cli/interrupts.test.ts',
  'test/sim/controller-table-episodes.test.ts',
  'test/web/many-runs.test.ts',
  'test/sim/controller-tshirt-episodes.test.ts',
  'test/run/robot-link.test.ts',
  'test/web/rollout-page.test.ts',
  'test/validate/no-false-alarm-table.test.ts',
  'test/run/faults.test.ts',
  'test/web/run-drawing.test.ts',
  'test/web/plan-preview.test.ts',
  'test/cli/outputs.test.ts',
  'test/service/rollouts.test.ts',
  'test/web/token.test.ts',
];

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.indexOf(relative(f.project.config.root, f.moduleId));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    // A stable sort: the files not listed keep vitest's own order after the listed ones.
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}
