"""The fine-tuned e5 encoder as an ONNX graph, built in memory from the committed weights and
run by onnxruntime (its CPU kernels are several times faster than numpy's stacked products).

Input: the word embeddings of a padded batch (gathered from the 4-bit table in numpy) and the
attention mask; output: tag logits. Nothing is written to disk.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from stream.cache import cache_dir, forget_older


def build_graph(w: dict[str, np.ndarray], layers: int, heads: int, eps: float) -> bytes:
    # Imported here: onnx takes ~0.75 s to import (its ml_dtypes), half of the tier's start-up,
    # and is needed only when the graph is not in the user's cache.
    from onnx import TensorProto, helper, numpy_helper

    hidden = w["ln.weight"].shape[0]
    size = hidden // heads
    nodes: list[Any] = []
    inits: list[Any] = []
    counter = [0]

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(value, name))
        return name

    def op(kind: str, inputs: list[str], **attrs: Any) -> str:
        counter[0] += 1
        out = f"t{counter[0]}"
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def linear(x: str, prefix: str) -> str:
        weight = const(prefix + ".wT", np.ascontiguousarray(w[prefix + ".weight"].T))
        return op("Add", [op("MatMul", [x, weight]), const(prefix + ".b", w[prefix + ".bias"])])

    def norm(x: str, prefix: str) -> str:
        return op("LayerNormalization", [x, const(prefix + ".g", w[prefix + ".weight"]),
                                         const(prefix + ".be", w[prefix + ".bias"])],
                  axis=-1, epsilon=eps)

    heads_shape = const("heads_shape", np.array([0, 0, heads, size], dtype=np.int64))
    merged_shape = const("merged_shape", np.array([0, 0, hidden], dtype=np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(size), dtype=np.float32))
    # positions 0..L-1 and the token-type row are added in the graph
    length = op("Gather", [op("Shape", ["embeddings"]), const("one", np.array(1, np.int64))])
    positions = op("Slice", [const("pos", w["pos"]), const("zero1", np.array([0], np.int64)),
                             op("Unsqueeze", [length, const("axes0", np.array([0], np.int64))])])
    x = op("Add", [op("Add", ["embeddings", positions]), const("type", w["token_type"])])
    x = norm(x, "ln")
    # mask [B, L] -> additive bias [B, 1, 1, L]
    mask = op("Cast", ["mask"], to=TensorProto.FLOAT)
    bias = op("Mul", [op("Sub", [const("onef", np.array(1.0, np.float32)), mask]),
                      const("neg", np.array(-1e9, np.float32))])
    bias = op("Unsqueeze", [bias, const("axes12", np.array([1, 2], np.int64))])
    for layer in range(layers):
        p = f"blocks.{layer}."

        def split(t: str) -> str:
            return op("Transpose", [op("Reshape", [t, heads_shape])], perm=[0, 2, 1, 3])

        q, k, v = (split(linear(x, p + part)) for part in ("q", "k", "v"))
        scores = op("Add", [op("Mul", [op("MatMul", [q, op("Transpose", [k], perm=[0, 1, 3, 2])]),
                                       scale]), bias])
        context = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        context = op("Reshape", [op("Transpose", [context], perm=[0, 2, 1, 3]), merged_shape])
        x = norm(op("Add", [x, linear(context, p + "ao")]), p + "aln")
        inner = op("Gelu", [linear(x, p + "fi")], approximate="tanh")
        x = norm(op("Add", [x, linear(inner, p + "fo")]), p + "oln")
    linear(x, "classifier")
    nodes[-1].output[0] = "logits"  # the classifier's bias add is the graph's output
    graph = helper.make_graph(
        nodes, "e5_ner",
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["B", "L", hidden]),
         helper.make_tensor_value_info("mask", TensorProto.INT64, ["B", "L"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["B", "L", None])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    return bytes(model.SerializeToString())


def quantized(graph: bytes) -> bytes:
    """The graph with int8 weights for every MatMul by a weight matrix (per output channel;
    activations quantised per call). The attention products of two activations stay fp32.
    On the dev splits: ~2x the words per CPU-second, up to 1.5 lower F1 (`make eval-ner`);
    int8 of the whole graph with one scale per tensor cost 11 F1 in the first experiments.
    Keeping one kind of weight MatMul in fp32 (the attention output, the FFN input or output,
    q/k/v, the classifier) moved the raw tagger's dev F1 by -0.5 to +0.4 per split, no kind
    better on all three, and `newsstream entities` with the attention output in fp32 lost
    0.4-0.8 on IDNER-2k and NERGrit: the differences are the int8 noise itself."""
    import tempfile

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load_from_string(graph)
    weights = {init.name for init in model.graph.initializer}
    chosen = []
    for index, node in enumerate(model.graph.node):
        node.name = f"node{index}"
        if node.op_type == "MatMul" and any(name in weights for name in node.input):
            chosen.append(node.name)
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
        onnx.save(model, str(source))
        quantize_dynamic(str(source), str(target), per_channel=True,
                         weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                         nodes_to_quantize=chosen)
        return target.read_bytes()


def session(weights: Callable[[], dict[str, np.ndarray]], layers: int, heads: int, eps: float,
            threads: int = 1, int8: bool = False, cache_name: str | None = None,
            cache_family: str | None = None) -> Any:
    """An onnxruntime session of the graph of ``weights()`` (called only to build it). With
    ``cache_name`` (which must change with the weights), the optimised graph is kept in the
    user's cache: loading it takes ~0.1 s where building and optimising take ~0.8 s. A new
    graph replaces the cached ones whose names start with ``cache_family``."""
    import onnxruntime

    def options(level: Any) -> Any:
        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = level
        return opts

    levels = onnxruntime.GraphOptimizationLevel
    providers = ["CPUExecutionProvider"]
    cached = cache_dir() / f"{cache_name}-ort{onnxruntime.__version__}.onnx" if cache_name else None
    if cached is not None and cached.exists():
        with contextlib.suppress(Exception):  # a damaged cache file is rebuilt below
            return onnxruntime.InferenceSession(str(cached), options(levels.ORT_ENABLE_ALL),
                                                providers=providers)
    graph = build_graph(weights(), layers, heads, eps)
    if int8:
        graph = quantized(graph)
    if cached is not None:
        # EXTENDED, not ALL: the saved graph must not carry this processor's layouts.
        opts = options(levels.ORT_ENABLE_EXTENDED)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        with contextlib.suppress(OSError):
            cached.parent.mkdir(parents=True, exist_ok=True)
            opts.optimized_model_filepath = str(partial)
            onnxruntime.InferenceSession(graph, opts, providers=providers)
            partial.replace(cached)
            if cache_family:
                forget_older(cached, cache_family)
    return onnxruntime.InferenceSession(graph, options(levels.ORT_ENABLE_ALL),
                                        providers=providers)
