/**
 * A minimal protobuf writer for the few ONNX messages the engine needs (ModelProto, GraphProto,
 * NodeProto, AttributeProto, ValueInfoProto with symbolic dimensions), so the matrix-product
 * models are built in memory: nothing is downloaded and no binary is committed.
 *
 * Field numbers follow onnx/onnx.proto (IR version 8). Only what we write is covered: strings,
 * int64 (non-negative), float and nested messages.
 */

/** Growable byte buffer with the three protobuf wire encodings we use. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Unsigned varint (base-128, little-endian groups); values up to 2^53 stay exact. */
  varint(value: number): this {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`varint needs a non-negative integer, got ${value}`);
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  private tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  /** Wire type 0. */
  int(field: number, value: number): this {
    return this.tag(field, 0).varint(value);
  }

  /** Wire type 5 (little-endian float32). */
  float(field: number, value: number): this {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, value, true);
    this.len += 4;
    return this;
  }

  /** Wire type 2 with raw bytes. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2).varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** Wire type 2 with a nested message written by `body`. */
  message(field: number, body: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    body(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** ONNX TensorProto.DataType values we use. */
export const OnnxType = { FLOAT: 1, DOUBLE: 11 } as const;

/** A dimension: a fixed size or a symbolic name (dim_param). */
export type OnnxDim = number | string;

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  dims: OnnxDim[];
}

export type OnnxAttribute = { name: string; int: number } | { name: string; float: number };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: OnnxAttribute[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModelOptions {
  /** Default 8: understood by every onnxruntime since 1.10. */
  irVersion?: number;
  /** Default 17 (Gemm and MatMul are at 13 there). */
  opset?: number;
  producer?: string;
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name); // ValueInfoProto.name
  w.message(2, (type) => {
    // TypeProto.tensor_type
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType); // TypeProto.Tensor.elem_type
      tensor.message(2, (shape) => {
        // TensorShapeProto.dim
        for (const d of v.dims) {
          shape.message(1, (dim) => {
            if (typeof d === 'number') dim.int(1, d); // dim_value
            else dim.string(2, d); // dim_param
          });
        }
      });
    });
  });
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) {
    w.message(5, (attr) => {
      attr.string(1, a.name);
      if ('int' in a) attr.int(3, a.int).int(20, ATTR_INT);
      else attr.float(2, a.float).int(20, ATTR_FLOAT);
    });
  }
}

/** Serialises a ModelProto holding `graph`. */
export function encodeOnnxModel(graph: OnnxGraph, options: OnnxModelOptions = {}): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, options.irVersion ?? 8); // ir_version
  w.string(2, options.producer ?? 'runtimeslicer'); // producer_name
  w.message(7, (g) => {
    // graph
    for (const n of graph.nodes) g.message(1, (node) => writeNode(node, n));
    g.string(2, graph.name);
    for (const i of graph.inputs) g.message(11, (vi) => writeValueInfo(vi, i));
    for (const o of graph.outputs) g.message(12, (vi) => writeValueInfo(vi, o));
  });
  w.message(8, (op) => {
    // opset_import: default domain
    op.string(1, '');
    op.int(2, options.opset ?? 17);
  });
  return w.finish();
}

/**
 * A one-node Gemm model `Y = op(A)·op(B)` with symbolic sizes, op = transpose where asked.
 * Gemm (not MatMul) because its transA/transB attributes give the backward products without
 * materialising a transpose.
 */
export function gemmModel(transA: boolean, transB: boolean, elemType: number = OnnxType.FLOAT): Uint8Array {
  const aDims: OnnxDim[] = transA ? ['K', 'M'] : ['M', 'K'];
  const bDims: OnnxDim[] = transB ? ['N', 'K'] : ['K', 'N'];
  return encodeOnnxModel({
    name: `gemm_${transA ? 't' : 'n'}${transB ? 't' : 'n'}`,
    nodes: [
      {
        opType: 'Gemm',
        inputs: ['A', 'B'],
        outputs: ['Y'],
        name: 'gemm',
        attributes: [
          { name: 'transA', int: transA ? 1 : 0 },
          { name: 'transB', int: transB ? 1 : 0 },
        ],
      },
    ],
    inputs: [
      { name: 'A', elemType, dims: aDims },
      { name: 'B', elemType, dims: bDims },
    ],
    outputs: [{ name: 'Y', elemType, dims: ['M', 'N'] }],
  });
}

/** A one-node MatMul model `Y = A·B` with symbolic sizes. */
export function matmulModel(elemType: number = OnnxType.FLOAT): Uint8Array {
  return encodeOnnxModel({
    name: 'matmul',
    nodes: [{ opType: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'], name: 'matmul' }],
    inputs: [
      { name: 'A', elemType, dims: ['M', 'K'] },
      { name: 'B', elemType, dims: ['K', 'N'] },
    ],
    outputs: [{ name: 'Y', elemType, dims: ['M', 'N'] }],
  });
}
