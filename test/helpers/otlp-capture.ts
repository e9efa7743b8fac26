/**
 * A local OTLP/HTTP receiver for tests: accepts POST /v1/traces, /v1/metrics and /v1/logs, JSON
 * or protobuf (by content-type, gzip content-encoding too), and appends each request body to a
 * folder in the collector file exporter's layout, which the OTLP reader reads back:
 * - JSON: one request per line in traces.jsonl / metrics.jsonl / logs.jsonl;
 * - protobuf: traces.binpb / metrics.binpb / logs.binpb, each message preceded by its size as a
 *   4-byte big-endian integer (the file exporter's `format: proto`).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { appendFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export type CaptureSignal = 'traces' | 'metrics' | 'logs';

export interface CapturedRequest {
  signal: CaptureSignal;
  encoding: 'json' | 'protobuf';
  bytes: number;
}

export interface OtlpCapture {
  /** base URL, e.g. http://127.0.0.1:40123 (exporters want `${url}/v1/traces`) */
  url: string;
  dir: string;
  /** every accepted request, in arrival order */
  requests: CapturedRequest[];
  /** requests refused (wrong path, method or content-type), as "METHOD path: reason" */
  refused: string[];
  /** resolves once every request received so far is on disk */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const PATHS: Record<string, CaptureSignal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function sizePrefixed(msg: Buffer): Buffer {
  const out = Buffer.alloc(4 + msg.length);
  out.writeUInt32BE(msg.length, 0);
  msg.copy(out, 4);
  return out;
}

export async function startOtlpCapture(dir: string): Promise<OtlpCapture> {
  const requests: CapturedRequest[] = [];
  const refused: string[] = [];
  // appends run one after another so lines and size-prefixed messages never interleave
  let chain: Promise<void> = Promise.resolve();
  let pending = new Set<Promise<void>>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    const signal = PATHS[path];
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const encoding = type === 'application/json' ? 'json' : type === 'application/x-protobuf' ? 'protobuf' : undefined;
    if (req.method !== 'POST' || !signal || !encoding) {
      refused.push(`${req.method} ${path}: ${!signal ? 'unknown path' : !encoding ? `content-type ${type}` : 'method'}`);
      res.writeHead(req.method !== 'POST' ? 405 : !signal ? 404 : 415).end();
      return;
    }
    let data = await body(req);
    if ((req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') data = gunzipSync(data);
    let out: Buffer;
    if (encoding === 'json') {
      // one request per line: re-serialize in case a client pretty-prints
      out = Buffer.from(JSON.stringify(JSON.parse(data.toString('utf8'))) + '\n');
    } else {
      out = sizePrefixed(data);
    }
    const file = join(dir, `${signal}.${encoding === 'json' ? 'jsonl' : 'binpb'}`);
    const write = (chain = chain.then(() => appendFile(file, out)));
    requests.push({ signal, encoding, bytes: data.length });
    await write;
    // an empty body is an empty Export*ServiceResponse in either encoding ({} for JSON)
    if (encoding === 'json') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  };

  const server = createServer((req, res) => {
    const p = handle(req, res).catch((e: unknown) => {
      refused.push(`${req.method} ${req.url}: ${e instanceof Error ? e.message : String(e)}`);
      if (!res.headersSent) res.writeHead(400).end();
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    requests,
    refused,
    async settled() {
      await Promise.all([...pending]);
      await chain;
    },
    async close() {
      await Promise.all([...pending]);
      await chain;
      pending = new Set();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
