"""A small TFLite -> ONNX converter for the MediaPipe hand models.

Reads the TFLite flatbuffer with the ``tflite`` package and emits an ONNX graph with ``onnx.helper``.
It covers the op types used by ``palm_detection_{lite,full}.tflite`` and ``hand_landmark_{lite,full}.tflite``:
DEQUANTIZE (fp16 weights, folded to fp32 constants), CONV_2D, DEPTHWISE_CONV_2D, ADD, PRELU, MAX_POOL_2D,
PAD, RESIZE_BILINEAR, RESHAPE, CONCATENATION, MEAN, FULLY_CONNECTED, LOGISTIC.

Layout: TFLite tensors are NHWC. The ONNX graph keeps the model's NHWC input and outputs (so it is a
drop-in replacement, e.g. input ``float32 (1, 192, 192, 3)``), but runs 4-D activations in NCHW internally;
transposes are inserted only where an op depends on the memory layout (RESHAPE, MEAN, FULLY_CONNECTED,
graph outputs).

PRELU with a per-channel slope ``s`` is emitted as ``s*x + (1-s)*Relu(x)``, both products as 1x1 depthwise
Convs (exact for x < 0; for x >= 0 within a few float32 ulps). onnxruntime's PRelu kernel dominated the palm
model's run time, and the earlier ``Relu(x) + s*Min(x, 0)`` form left onnxruntime's blocked NCHWc layout
for every Min/Mul (a reorder out and back in per block, and the residual Add unfused); in this form the
whole BlazePalm backbone stays in NCHWc (palm_detection_full ~10.0 -> ~8.0 ms on one core, measured in
one process). The slopes range from -4.6 to 12.2, so ``Max(x, s*x)`` would not be exact. Other slope
shapes fall back to ``Relu(x) + slope * Min(x, 0)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper
from tflite.BuiltinOperator import BuiltinOperator
from tflite.Padding import Padding
from tflite.TensorType import TensorType

__all__ = ["convert", "convert_file"]

_OPNAMES = {v: k for k, v in BuiltinOperator.__dict__.items() if not k.startswith("_")}
_NP_TYPES = {
    TensorType.FLOAT32: np.float32,
    TensorType.FLOAT16: np.float16,
    TensorType.INT32: np.int32,
    TensorType.INT64: np.int64,
    TensorType.UINT8: np.uint8,
    TensorType.INT8: np.int8,
}
_NHWC_TO_NCHW = [0, 3, 1, 2]
_NCHW_TO_NHWC = [0, 2, 3, 1]


class _Converter:
    def __init__(self, buf: bytes):
        self.model = tflite.Model.GetRootAsModel(buf, 0)
        if self.model.SubgraphsLength() != 1:
            raise ValueError("only single-subgraph TFLite models are supported")
        self.g = self.model.Subgraphs(0)
        self.nodes: list = []
        self.inits: list = []
        self.consts: dict[int, np.ndarray] = {}  # tflite tensor index -> numpy (NHWC semantics)
        self.nchw: dict[int, str] = {}  # tflite tensor index -> ONNX name of its NCHW version
        self.plain: dict[int, str] = {}  # tflite tensor index -> ONNX name in TFLite (NHWC) layout
        self._uid = 0
        self._small: dict = {}

    # ------------------------------------------------------------------ helpers
    def _name(self, base: str) -> str:
        self._uid += 1
        return f"{base}__{self._uid}"

    def tname(self, i: int) -> str:
        return self.g.Tensors(i).Name().decode()

    def shape(self, i: int) -> list[int]:
        t = self.g.Tensors(i)
        return [int(s) for s in t.ShapeAsNumpy()] if t.ShapeLength() else []

    def buffer(self, i: int) -> np.ndarray | None:
        t = self.g.Tensors(i)
        b = self.model.Buffers(t.Buffer())
        if b is None or b.DataLength() == 0:
            return None
        data = b.DataAsNumpy().tobytes()
        return np.frombuffer(data, dtype=_NP_TYPES[t.Type()]).reshape(self.shape(i)).copy()

    def const(self, i: int) -> np.ndarray | None:
        if i in self.consts:
            return self.consts[i]
        arr = self.buffer(i)
        if arr is not None:
            self.consts[i] = arr
        return arr

    def add_init(self, arr: np.ndarray, base: str) -> str:
        arr = np.ascontiguousarray(arr)
        small = arr.size <= 16  # shared small constants (zeros, clip bounds, shapes) are stored once
        key = (arr.dtype.str, arr.shape, arr.tobytes()) if small else None
        if key is not None and key in self._small:
            return self._small[key]
        name = self._name(base)
        self.inits.append(numpy_helper.from_array(arr, name))
        if key is not None:
            self._small[key] = name
        return name

    def node(self, op: str, inputs: list[str], base: str, **attrs) -> str:
        out = self._name(base)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def is4d(self, i: int) -> bool:
        return len(self.shape(i)) == 4

    def get_nchw(self, i: int) -> str:
        """ONNX name of 4-D tensor ``i`` in NCHW layout (inserting a Transpose if needed)."""
        if i in self.nchw:
            return self.nchw[i]
        c = self.const(i)
        if c is not None:
            name = self.add_init(c.astype(np.float32).transpose(_NHWC_TO_NCHW), self.tname(i))
        else:
            name = self.node("Transpose", [self.plain[i]], self.tname(i) + "_nchw", perm=_NHWC_TO_NCHW)
        self.nchw[i] = name
        return name

    def get_plain(self, i: int) -> str:
        """ONNX name of tensor ``i`` in TFLite layout."""
        if i in self.plain:
            return self.plain[i]
        c = self.const(i)
        if c is not None:
            name = self.add_init(c, self.tname(i))
        else:
            name = self.node("Transpose", [self.nchw[i]], self.tname(i) + "_nhwc", perm=_NCHW_TO_NHWC)
        self.plain[i] = name
        return name

    def activation(self, name: str, act: int, base: str) -> str:
        if act == 0:
            return name
        if act == 1:
            return self.node("Relu", [name], base + "_relu")
        if act == 3:
            return self.node("Clip", [name, self.add_init(np.float32(0), "zero"), self.add_init(np.float32(6), "six")],
                             base + "_relu6")
        if act == 2:
            return self.node("Clip", [name, self.add_init(np.float32(-1), "m1"), self.add_init(np.float32(1), "p1")],
                             base + "_relun1")
        if act == 4:
            return self.node("Tanh", [name], base + "_tanh")
        raise NotImplementedError(f"fused activation {act}")

    @staticmethod
    def same_pads(in_hw, k_hw, s_hw, d_hw) -> list[int]:
        begins, ends = [], []
        for n, k, s, d in zip(in_hw, k_hw, s_hw, d_hw):
            out = -(-n // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
            begins.append(total // 2)
            ends.append(total - total // 2)
        return begins + ends

    # ------------------------------------------------------------------ ops
    def convert_op(self, op) -> None:
        oc = self.model.OperatorCodes(op.OpcodeIndex())
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        opname = _OPNAMES.get(code, str(code))
        ins = [int(x) for x in op.InputsAsNumpy()] if op.InputsLength() else []
        outs = [int(x) for x in op.OutputsAsNumpy()]
        o = outs[0]
        base = self.tname(o)
        opts = op.BuiltinOptions()

        def options(cls):
            x = cls()
            x.Init(opts.Bytes, opts.Pos)
            return x

        if opname == "DEQUANTIZE":
            src = self.const(ins[0])
            if src is None:
                raise NotImplementedError("DEQUANTIZE of a non-constant tensor")
            self.consts[o] = src.astype(np.float32)
            return

        if opname in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            depthwise = opname == "DEPTHWISE_CONV_2D"
            o_ = options(tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions)
            w = self.const(ins[1]).astype(np.float32)
            in_shape = self.shape(ins[0])
            if depthwise:  # [1, kh, kw, C*mult] -> [C*mult, 1, kh, kw]
                wt = w.transpose(3, 0, 1, 2)
                group = in_shape[3]
            else:  # [out, kh, kw, in] -> [out, in, kh, kw]
                wt = w.transpose(0, 3, 1, 2)
                group = 1
            kh, kw = wt.shape[2], wt.shape[3]
            strides = [o_.StrideH(), o_.StrideW()]
            dil = [o_.DilationHFactor(), o_.DilationWFactor()]
            if o_.Padding() == Padding.SAME:
                pads = self.same_pads(in_shape[1:3], [kh, kw], strides, dil)
            else:
                pads = [0, 0, 0, 0]
            inputs = [self.get_nchw(ins[0]), self.add_init(wt, base + "_w")]
            if len(ins) > 2 and ins[2] >= 0:
                inputs.append(self.add_init(self.const(ins[2]).astype(np.float32), base + "_b"))
            y = self.node("Conv", inputs, base, kernel_shape=[kh, kw], strides=strides, dilations=dil,
                          pads=pads, group=group)
            self.nchw[o] = self.activation(y, o_.FusedActivationFunction(), base)
            return

        if opname == "MAX_POOL_2D":
            o_ = options(tflite.Pool2DOptions)
            k = [o_.FilterHeight(), o_.FilterWidth()]
            s = [o_.StrideH(), o_.StrideW()]
            pads = self.same_pads(self.shape(ins[0])[1:3], k, s, [1, 1]) if o_.Padding() == Padding.SAME else [0] * 4
            y = self.node("MaxPool", [self.get_nchw(ins[0])], base, kernel_shape=k, strides=s, pads=pads)
            self.nchw[o] = self.activation(y, o_.FusedActivationFunction(), base)
            return

        if opname == "ADD":
            o_ = options(tflite.AddOptions)
            if self.is4d(o):
                a, b = (self._nchw_operand(i) for i in ins[:2])
                self.nchw[o] = self.activation(self.node("Add", [a, b], base), o_.FusedActivationFunction(), base)
            else:
                y = self.node("Add", [self.get_plain(ins[0]), self.get_plain(ins[1])], base)
                self.plain[o] = self.activation(y, o_.FusedActivationFunction(), base)
            return

        if opname == "PRELU":
            if not self.is4d(o):
                raise NotImplementedError("PRELU on non-4-D tensors")
            x = self.get_nchw(ins[0])
            c = self.shape(o)[3]
            alpha = self.const(ins[1])
            if alpha is not None and alpha.size == c and alpha.shape[-1] == c:
                # s*x + (1-s)*Relu(x), the per-channel products as 1x1 depthwise convolutions: every op stays
                # in onnxruntime's blocked (NCHWc) layout and the residual Add before it fuses into the Conv
                s = alpha.astype(np.float32).reshape(c)
                pos = self.node("Relu", [x], base + "_pos")
                sx = self._channel_scale(x, s, base + "_sx")
                self.nchw[o] = self._channel_scale(pos, 1.0 - s, base + "_spos", add=sx)
                return
            slope = self._nchw_operand(ins[1])
            pos = self.node("Relu", [x], base + "_pos")
            neg = self.node("Min", [x, self.add_init(np.zeros((1, 1, 1, 1), np.float32), "zero4")], base + "_neg")
            self.nchw[o] = self.node("Add", [pos, self.node("Mul", [neg, slope], base + "_negs")], base)
            return

        if opname == "LOGISTIC":
            if ins[0] in self.nchw:
                self.nchw[o] = self.node("Sigmoid", [self.nchw[ins[0]]], base)
            else:
                self.plain[o] = self.node("Sigmoid", [self.get_plain(ins[0])], base)
            return

        if opname == "PAD":
            p = self.const(ins[1]).astype(np.int64)  # [rank, 2]
            if self.is4d(o):
                p = p[_NHWC_TO_NCHW]
                x = self.get_nchw(ins[0])
            else:
                x = self.get_plain(ins[0])
            pads = np.concatenate([p[:, 0], p[:, 1]]).astype(np.int64)
            y = self.node("Pad", [x, self.add_init(pads, base + "_pads")], base, mode="constant")
            (self.nchw if self.is4d(o) else self.plain)[o] = y
            return

        if opname == "RESIZE_BILINEAR":
            o_ = options(tflite.ResizeBilinearOptions)
            if o_.AlignCorners():
                mode = "align_corners"
            elif o_.HalfPixelCenters():
                mode = "half_pixel"
            else:
                mode = "asymmetric"
            out_shape = self.shape(o)
            sizes = np.array([out_shape[0], out_shape[3], out_shape[1], out_shape[2]], np.int64)
            y = self.node("Resize", [self.get_nchw(ins[0]), "", "", self.add_init(sizes, base + "_sizes")], base,
                          mode="linear", coordinate_transformation_mode=mode)
            self.nchw[o] = y
            return

        if opname == "RESHAPE":
            shape = np.array(self.shape(o), np.int64)
            self.plain[o] = self.node("Reshape", [self.get_plain(ins[0]), self.add_init(shape, base + "_shape")], base)
            return

        if opname == "CONCATENATION":
            o_ = options(tflite.ConcatenationOptions)
            axis = o_.Axis()
            rank = len(self.shape(o))
            axis = axis % rank
            if rank == 4:
                y = self.node("Concat", [self.get_nchw(i) for i in ins], base, axis=_NCHW_TO_NHWC.index(axis))
                self.nchw[o] = self.activation(y, o_.FusedActivationFunction(), base)
            else:
                y = self.node("Concat", [self.get_plain(i) for i in ins], base, axis=axis)
                self.plain[o] = self.activation(y, o_.FusedActivationFunction(), base)
            return

        if opname == "MEAN":
            o_ = options(tflite.ReducerOptions)
            axes = self.const(ins[1]).astype(np.int64).reshape(-1)
            keep = int(bool(o_.KeepDims()))
            y = self.node("ReduceMean", [self.get_plain(ins[0]), self.add_init(axes, base + "_axes")], base,
                          keepdims=keep)
            self.plain[o] = y
            return

        if opname == "FULLY_CONNECTED":
            o_ = options(tflite.FullyConnectedOptions)
            w = self.const(ins[1]).astype(np.float32)  # [out, in]
            x = self.get_plain(ins[0])
            x = self.node("Reshape", [x, self.add_init(np.array([-1, w.shape[1]], np.int64), base + "_flat")],
                          base + "_flat")
            inputs = [x, self.add_init(w, base + "_w")]
            if len(ins) > 2 and ins[2] >= 0:
                inputs.append(self.add_init(self.const(ins[2]).astype(np.float32), base + "_b"))
            y = self.node("Gemm", inputs, base, transB=1)
            y = self.activation(y, o_.FusedActivationFunction(), base)
            out_shape = self.shape(o)
            if len(out_shape) != 2:
                y = self.node("Reshape", [y, self.add_init(np.array(out_shape, np.int64), base + "_oshape")],
                              base + "_o")
            self.plain[o] = y
            return

        raise NotImplementedError(f"TFLite op {opname} is not supported by this converter")

    def _channel_scale(self, x: str, scale: np.ndarray, base: str, add: str | None = None) -> str:
        """``x * scale[c]`` (+ ``add``) for an NCHW activation ``x``, as a 1x1 depthwise Conv (+ Add)."""
        c = scale.size
        w = self.add_init(scale.astype(np.float32).reshape(c, 1, 1, 1), base + "_w")
        y = self.node("Conv", [x, w], base, kernel_shape=[1, 1], group=c)
        return y if add is None else self.node("Add", [y, add], base + "_add")

    def _nchw_operand(self, i: int) -> str:
        """Operand ``i`` broadcastable against an NCHW activation (constants of rank < 4 are padded)."""
        c = self.const(i)
        if c is not None and c.ndim < 4:
            c = c.astype(np.float32).reshape((1,) * (4 - c.ndim) + c.shape)
            return self.add_init(c.transpose(_NHWC_TO_NCHW), self.tname(i))
        return self.get_nchw(i)

    # ------------------------------------------------------------------ driver
    def run(self, opset: int = 18) -> onnx.ModelProto:
        g = self.g
        inputs = []
        for k in range(g.InputsLength()):
            i = int(g.Inputs(k))
            name = self.tname(i)
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, self.shape(i)))
            self.plain[i] = name
        for k in range(g.OperatorsLength()):
            self.convert_op(g.Operators(k))
        outputs = []
        for k in range(g.OutputsLength()):
            i = int(g.Outputs(k))
            name = self.tname(i)
            src = self.get_plain(i)
            self.nodes.append(helper.make_node("Identity", [src], [name], name=name + "_out"))
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, self.shape(i)))
        graph = helper.make_graph(self.nodes, "converted", inputs, outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                  producer_name="passthrough.hand_tracking.tflite_to_onnx")
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def convert(tflite_bytes: bytes) -> onnx.ModelProto:
    """Convert a TFLite flatbuffer (bytes) to an ONNX model (opset 18).

    The ONNX model has the same input/output names, shapes (NHWC) and dtypes (float32) as the TFLite model.
    Raises ``NotImplementedError`` for op types outside the supported set.
    """
    return _Converter(tflite_bytes).run()


def convert_file(src: Path, dst: Path) -> Path:
    """Convert ``src`` (.tflite) into ``dst`` (.onnx); returns ``dst``."""
    model = convert(Path(src).read_bytes())
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(dst.suffix + ".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(dst)
    return dst
