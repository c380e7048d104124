// Times a model in onnxruntime-node for BenchmarkVersusOnnxruntime: loads
// it with THREADS intra-op threads, runs it WARMUP times, then N times on
// one input of zeros, and prints the N runs' milliseconds as JSON.
// Usage: node ort-bench.js MODEL INPUT-DIMS(comma-separated) THREADS WARMUP N
// (NODE_PATH names the node_modules holding onnxruntime-node).
const ort = require('onnxruntime-node');

(async () => {
  const [model, dimList, threads, warmup, n] = process.argv.slice(2);
  const dims = dimList.split(',').map(Number);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1, executionMode: 'sequential',
  });
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b)), dims)};
  for (let i = 0; i < Number(warmup); i++) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < Number(n); i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(JSON.stringify(ms));
})().catch(err => { console.error(String(err)); process.exit(1); });
