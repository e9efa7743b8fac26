import { SeededRng } from '../../telemetry/index.js';

/**
 * The model's seeded generator: the project's SeededRng, whose named streams give independent
 * sequences for the same seed. Weight init, dropout and batch shuffling take one of these.
 */
export class ModelRng extends SeededRng {
  /** A generator for another named stream of the same seed. */
  derive(stream: string): ModelRng {
    return new ModelRng(this.seed, this.stream ? `${this.stream}/${stream}` : stream);
  }
}
