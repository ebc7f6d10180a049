// The simulator draws from the same seeded generator as the rest of keystep.
export { Rng } from '../src/util/rng.js';
