// Runs the cases TestOnnxruntime writes (cases.json: each a model file and
// its inputs) in onnxruntime-node and writes every output, or the error
// onnxruntime gave, to results.json. Usage: node ort.js CASES RESULTS
// (NODE_PATH names the node_modules holding onnxruntime-node).
const fs = require('fs');
const ort = require('onnxruntime-node');

(async () => {
  const cases = JSON.parse(fs.readFileSync(process.argv[2]));
  const results = [];
  for (const c of cases) {
    try {
      const session = await ort.InferenceSession.create(c.model);
      const feeds = {};
      for (const x of c.inputs) {
        feeds[x.name] = new ort.Tensor('float32', Float32Array.from(x.data), x.dims);
      }
      const out = await session.run(feeds);
      results.push({outputs: c.outputs.map(name => ({dims: Array.from(out[name].dims, Number), data: Array.from(out[name].data)}))});
    } catch (err) {
      results.push({error: String(err).split('\n')[0].slice(0, 400)});
    }
  }
  fs.writeFileSync(process.argv[3], JSON.stringify(results));
})();
