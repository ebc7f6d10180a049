"""Int8 matrix products for an exported palette-patch graph (models/PALETTE.md, "Int8 graphs").

Every MatMul whose second input is a 2-D weight becomes the pattern onnxruntime fuses into one
integer kernel (MatMulIntegerToFloat; VNNI/AMX where the CPU has them):

    A -> DynamicQuantizeLinear -> (A_u8, a_scale, a_zero)
    MatMulInteger(A_u8, W_s8, a_zero, 0) -> Cast(float) -> Mul(a_scale * w_scale)

Weights are quantized per output column, symmetric (int8, zero point 0); activations per call, per
tensor (uint8). Only the weights' matrix products change: embeddings, attention scores, softmax,
layer norms and the argmax stay float32, so the graph's inputs and outputs are the same as before.

    /usr/bin/python3 models/quantize.py IN.onnx OUT.onnx     (needs Debian's python3-onnx)
"""
import argparse
import os
import sys

import numpy as np

# Narrow products (the keep logit's 128 x 1) gain nothing and lose the most to rounding.
MIN_COLUMNS = 16


def require_onnx(who):
    """Exits with what to install when the onnx package is missing."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        sys.exit(f'{who} needs the onnx package (Debian: apt-get install python3-onnx)')


def quantize_weight(w):
    """int8 weight and its float32 scale per column: w ~= w_q * scale."""
    scale = np.maximum(np.abs(w).max(axis=0), 1e-8) / 127.0
    return np.clip(np.round(w / scale), -127, 127).astype(np.int8), scale.astype(np.float32)


def quantize_graph(src, dst):
    """Writes dst, the graph of src with int8 weight products; returns how many MatMuls changed."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    model = onnx.load(src)
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    nodes, changed = [], 0
    for node in graph.node:
        w = weights.get(node.input[1]) if node.op_type == 'MatMul' else None
        if w is None or len(w.dims) != 2 or w.dims[1] < MIN_COLUMNS:
            nodes.append(node)
            continue
        wq, scale = quantize_weight(numpy_helper.to_array(w).astype(np.float32))
        p = f'{node.name or node.output[0]}_int8_'
        graph.initializer.extend([numpy_helper.from_array(wq, p + 'w'), numpy_helper.from_array(scale, p + 'w_scale'),
                                  numpy_helper.from_array(np.zeros(wq.shape[1], np.int8), p + 'w_zero')])
        nodes += [
            helper.make_node('DynamicQuantizeLinear', [node.input[0]], [p + 'a', p + 'a_scale', p + 'a_zero']),
            helper.make_node('MatMulInteger', [p + 'a', p + 'w', p + 'a_zero', p + 'w_zero'], [p + 'y']),
            helper.make_node('Cast', [p + 'y'], [p + 'y_float'], to=TensorProto.FLOAT),
            helper.make_node('Mul', [p + 'a_scale', p + 'w_scale'], [p + 'scale']),
            helper.make_node('Mul', [p + 'y_float', p + 'scale'], [node.output[0]]),
        ]
        changed += 1
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for n in graph.node for name in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.checker.check_model(model)
    onnx.save(model, dst + '.tmp')
    os.replace(dst + '.tmp', dst)
    return changed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('src')
    ap.add_argument('dst')
    a = ap.parse_args()
    require_onnx('quantize.py')
    print(f'{a.dst}: {quantize_graph(a.src, a.dst)} MatMuls in int8')


if __name__ == '__main__':
    main()
