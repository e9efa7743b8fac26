import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrtKernel, encodeOnnxModel, gemmModel, jsKernel, matmulModel, ModelRng, OnnxType, ProtoWriter } from '../../src/model/engine/index.js';
import { randn } from './helpers.js';

const ortKernel = createOrtKernel({ minWork: 0 });
const noOrt = ortKernel ? false : 'onnxruntime-node unavailable';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('protobuf wire encodings match the reference examples', () => {
  assert.equal(hex(new ProtoWriter().varint(1).finish()), '01');
  assert.equal(hex(new ProtoWriter().varint(300).finish()), 'ac02');
  assert.equal(hex(new ProtoWriter().varint(2 ** 32).finish()), '8080808010');
  // The protobuf docs' examples: field 1 = 150, field 2 = "testing".
  assert.equal(hex(new ProtoWriter().int(1, 150).finish()), '089601');
  assert.equal(hex(new ProtoWriter().string(2, 'testing').finish()), '120774657374696e67');
  assert.equal(hex(new ProtoWriter().float(2, 1).finish()), '150000803f');
  assert.equal(hex(new ProtoWriter().message(3, (w) => w.int(1, 150)).finish()), '1a03089601');
  assert.throws(() => new ProtoWriter().varint(-1), /non-negative/);
});

/** A minimal decoder, independent of the writer, to read back what was written. */
type Field = { field: number; wire: number; value: number | Uint8Array };
function decode(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let p = 0;
  const varint = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = buf[p++];
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return v;
    }
  };
  while (p < buf.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 2) {
      const n = varint();
      out.push({ field, wire, value: buf.subarray(p, p + n) });
      p += n;
    } else if (wire === 5) {
      out.push({ field, wire, value: new DataView(buf.buffer, buf.byteOffset + p, 4).getFloat32(0, true) });
      p += 4;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}
const str = (v: number | Uint8Array) => new TextDecoder().decode(v as Uint8Array);
const sub = (fs: Field[], n: number) => fs.filter((f) => f.field === n).map((f) => decode(f.value as Uint8Array));

test('the Gemm model decodes to the ONNX structure it claims (fields per onnx.proto)', () => {
  const model = decode(gemmModel(true, false));
  assert.equal(model.find((f) => f.field === 1)?.value, 8, 'ir_version');
  const opset = sub(model, 8)[0];
  assert.equal(opset.find((f) => f.field === 2)?.value, 17, 'opset version');
  const graph = sub(model, 7)[0];
  const [node] = sub(graph, 1);
  assert.equal(str(node.find((f) => f.field === 4)!.value), 'Gemm');
  assert.deepEqual(node.filter((f) => f.field === 1).map((f) => str(f.value)), ['A', 'B']);
  assert.deepEqual(node.filter((f) => f.field === 2).map((f) => str(f.value)), ['Y']);
  const attrs = sub(node, 5).map((a) => ({ name: str(a.find((f) => f.field === 1)!.value), i: a.find((f) => f.field === 3)?.value, type: a.find((f) => f.field === 20)?.value }));
  assert.deepEqual(attrs, [
    { name: 'transA', i: 1, type: 2 },
    { name: 'transB', i: 0, type: 2 },
  ]);
  const [inA] = sub(graph, 11);
  assert.equal(str(inA.find((f) => f.field === 1)!.value), 'A');
  const tensorType = sub(sub(inA, 2)[0], 1)[0];
  assert.equal(tensorType.find((f) => f.field === 1)?.value, OnnxType.FLOAT);
  const dims = sub(sub(tensorType, 2)[0], 1).map((d) => str(d.find((f) => f.field === 2)!.value));
  assert.deepEqual(dims, ['K', 'M'], 'symbolic dims of a transposed A');
  const fixed = decode(encodeOnnxModel({ name: 'g', nodes: [], inputs: [{ name: 'x', elemType: 1, dims: [3, 'N'] }], outputs: [] }));
  const d0 = sub(sub(sub(sub(sub(sub(fixed, 7)[0], 11)[0], 2)[0], 1)[0], 2)[0], 1);
  assert.equal(d0[0].find((f) => f.field === 1)?.value, 3, 'fixed dim_value');
  assert.equal(str(d0[1].find((f) => f.field === 2)!.value), 'N');
});

test('the hand-encoded MatMul model loads in onnxruntime (public API) and equals the JS kernel', { skip: noOrt }, async () => {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(matmulModel());
  try {
    assert.deepEqual(session.inputNames, ['A', 'B']);
    assert.deepEqual(session.outputNames, ['Y']);
    const rng = new ModelRng(8);
    for (const [m, k, n] of [
      [1, 1, 1],
      [3, 5, 2],
      [17, 33, 9],
    ]) {
      const a = randn(rng, m * k);
      const b = randn(rng, k * n);
      const out = await session.run({ A: new ort.Tensor('float32', a, [m, k]), B: new ort.Tensor('float32', b, [k, n]) });
      assert.deepEqual(out.Y.dims, [m, n]);
      const js = jsKernel.gemm(a, b, m, k, n, false, false);
      const y = out.Y.data as Float32Array;
      for (let i = 0; i < js.length; i++) assert.ok(Math.abs(y[i] - js[i]) < 1e-5 * (1 + Math.abs(js[i])), `Y[${i}] ${y[i]} vs ${js[i]}`);
    }
  } finally {
    await session.release();
  }
});

test('the four Gemm variants through the ORT kernel equal the JS kernel and a float64 reference', { skip: noOrt }, () => {
  const rng = new ModelRng(9);
  for (const [m, k, n] of [
    [1, 1, 1],
    [2, 3, 4],
    [7, 1, 5],
    [31, 17, 23],
    [64, 130, 33],
  ]) {
    for (let v = 0; v < 4; v++) {
      const ta = (v & 2) !== 0;
      const tb = (v & 1) !== 0;
      const a = randn(rng, m * k);
      const b = randn(rng, k * n);
      const ref = new Float64Array(m * n);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
          ref[i * n + j] = s;
        }
      const viaOrt = ortKernel!.gemm(a, b, m, k, n, ta, tb);
      const viaJs = jsKernel.gemm(a, b, m, k, n, ta, tb);
      for (let i = 0; i < ref.length; i++) {
        const tol = 1e-5 * Math.sqrt(k) * (1 + Math.abs(ref[i]));
        assert.ok(Math.abs(viaOrt[i] - ref[i]) < tol, `ort ${m}×${k}×${n} ${ta}/${tb} [${i}]`);
        assert.ok(Math.abs(viaJs[i] - ref[i]) < tol, `js ${m}×${k}×${n} ${ta}/${tb} [${i}]`);
      }
    }
  }
  // gemmModel is what the kernel runs; the bytes are deterministic.
  assert.equal(hex(gemmModel(false, true)), hex(gemmModel(false, true)));
});

test('small products stay in JS under the default threshold and give the same numbers', { skip: noOrt }, () => {
  const k = createOrtKernel()!;
  assert.ok(k.minWork > 0);
  const rng = new ModelRng(10);
  const a = randn(rng, 4 * 4);
  const b = randn(rng, 4 * 4);
  assert.deepEqual(k.gemm(a, b, 4, 4, 4, false, false), jsKernel.gemm(a, b, 4, 4, 4, false, false));
  k.dispose();
});
