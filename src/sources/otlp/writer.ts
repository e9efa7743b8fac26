import type { Dataset } from '../../telemetry/index.js';
import type { Entity, FaultLabel, LogRecord, MetricSeries, Span } from '../../telemetry/index.js';

/**
 * Writes telemetry as OTLP/HTTP JSON in the OpenTelemetry collector's file-exporter format
 * (one Export*ServiceRequest per line): metrics.jsonl, traces.jsonl, logs.jsonl.
 * STUB: signatures are final; bodies are being written.
 */
export class OtlpWriter {
  constructor(readonly dir: string) {}

  async writeMetrics(_series: MetricSeries[], _entities: Iterable<Entity> | Map<string, Entity>): Promise<void> {
    throw new Error('not implemented yet');
  }

  async writeSpans(_spans: Span[], _entities: Iterable<Entity> | Map<string, Entity>): Promise<void> {
    throw new Error('not implemented yet');
  }

  async writeLogs(_logs: LogRecord[], _entities: Iterable<Entity> | Map<string, Entity>): Promise<void> {
    throw new Error('not implemented yet');
  }

  async close(): Promise<void> {
    throw new Error('not implemented yet');
  }
}

/** Writes faults.json (atomically) into dir. */
export async function writeFaults(_dir: string, _labels: FaultLabel[]): Promise<void> {
  throw new Error('not implemented yet');
}

/** Copies any Dataset to OTLP JSON files (plus faults.json) in dir. */
export async function writeOtlpDataset(_dir: string, _dataset: Dataset): Promise<void> {
  throw new Error('not implemented yet');
}
