using FsrNative.Kernels;
using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// Two ints for the 2-D arguments of convolution and pooling (kernel size, stride, padding, dilation, output size),
/// (H, W). An int converts to (v, v) and a tuple (h, w) to (h, w), as PyTorch's int-or-tuple arguments:
/// <c>conv2d(x, w, stride: 2, padding: (1, 0))</c>.
/// </summary>
public readonly record struct IntPair(int H, int W)
{
    public static implicit operator IntPair(int v) => new(v, v);
    public static implicit operator IntPair((int H, int W) t) => new(t.H, t.W);
    public override string ToString() => $"({H}, {W})";
}

/// <summary>
/// conv2d (groups = 1), max/average/adaptive-average pooling and global pooling, NCHW, with PyTorch's semantics and
/// argument checks; 3-D (C, H, W) inputs are treated as a batch of one, as PyTorch does. Each forward makes its
/// input contiguous, calls one backend primitive, and records its backward right below it:
/// conv2d's input gradient (transposed convolution as GEMM + col2im), weight gradient (Σ gy·patchesᵀ) and bias gradient
/// (Σ of gy over images and positions); max pooling's gradient goes to the saved argmax indices, average pooling's is
/// spread over each window.
/// </summary>
internal static class ConvPoolOps
{
    /// <summary>The input as 4-D (N, C, H, W): a 3-D (C, H, W) input becomes a view with N = 1.</summary>
    static Tensor Batched(Tensor input, string op, out bool unbatched)
    {
        if (input.dim() != 3 && input.dim() != 4)
            throw new ArgumentException($"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {Shape.Format(input.ShapeSpan)}");
        unbatched = input.dim() == 3;
        return unbatched ? input.unsqueeze(0) : input;
    }

    static Tensor Unbatched(Tensor y, bool unbatched) => unbatched ? y.squeeze(0) : y;

    static void DisposeCopy(Tensor copy, Tensor original)
    {
        if (!ReferenceEquals(copy, original)) copy.Dispose();
    }

    // ---- conv2d ---------------------------------------------------------------------------------------------------

    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, IntPair stride, IntPair padding, IntPair dilation, int groups)
    {
        const string name = "conv2d";
        if (groups != 1)
            throw new NotSupportedException($"conv2d: groups = {groups} is not supported (only groups = 1)");
        Float(input, name); Float(weight, name);
        SameDevice(input, weight, name); SameDType(input, weight, name);
        if (weight.dim() != 4)
            throw new ArgumentException($"conv2d: weight must be 4-D (out_channels, in_channels, kH, kW), got shape {Shape.Format(weight.ShapeSpan)}");
        var x = Batched(input, name, out bool unbatched);
        int n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        int o = weight.size(0);
        if (weight.size(1) != c)
            throw new ArgumentException($"conv2d: input {Shape.Format(input.ShapeSpan)} has {c} channels but weight {Shape.Format(weight.ShapeSpan)} expects {weight.size(1)}");
        if (bias is not null)
        {
            SameDevice(input, bias, name); SameDType(input, bias, name);
            if (bias.dim() != 1 || bias.size(0) != o)
                throw new ArgumentException($"conv2d: bias must have shape [{o}] (one value per output channel), got {Shape.Format(bias.ShapeSpan)}");
        }
        var geo = Conv2dGeometry.Create(n, c, h, w, o, weight.size(2), weight.size(3),
            stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W);

        // Autocast (decided now, for the backward too): input, weight and output gradient rounded to bfloat16, float32
        // accumulation; the bias stays float32.
        bool bf16 = Autocast.Applies(x);
        var xc = bf16 ? TensorOps.Bf16Copy(x) : x.ContiguousOrSelf();
        var wc = bf16 ? TensorOps.Bf16Copy(weight) : weight.ContiguousOrSelf();
        var bc = bias?.ContiguousOrSelf();
        var y = Tensor.Empty([n, o, geo.OH, geo.OW], x.device, x.DType);
        x.Backend.Conv2d(xc, wc, bc, y, geo);
        if (bc is not null) DisposeCopy(bc, bias!);
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        // Decided now, not at backward time: the copies that are not needed are released below.
        bool needInput = Tape.Needed(x), needWeight = Tape.Needed(weight), needBias = bias is not null && Tape.Needed(bias);
        if (!needWeight) DisposeCopy(xc, x);    // the input is only read again for the weight gradient
        if (!needInput) DisposeCopy(wc, weight); // the weight only for the input gradient
        if (!Tape.Needed(inputs)) return Unbatched(y, unbatched);

        Tape.Record(y, name, inputs, gy =>
        {
            var gc = bf16 ? TensorOps.Bf16Copy(gy) : gy.ContiguousOrSelf();
            Tensor? gx = null, gw = null, gb = null;
            if (needInput)
            {
                gx = Tensor.Empty(x.ShapeArray, x.device, x.DType);
                x.Backend.Conv2dBackwardInput(gc, wc, gx, geo);
            }
            if (needWeight)
            {
                gw = Tensor.Empty(weight.ShapeArray, x.device, x.DType);
                x.Backend.Conv2dBackwardWeight(xc, gc, gw, geo);
            }
            if (needBias) gb = gc.sum([0, 2, 3]);
            return bias is null ? [gx, gw] : [gx, gw, gb];
        });
        return Unbatched(y, unbatched);
    }

    // ---- pooling --------------------------------------------------------------------------------------------------

    /// <summary>Max pooling with its indices (flat in each plane, Int32); the backward sends each output's gradient to its index.</summary>
    public static (Tensor output, Tensor? indices) MaxPool(string name, Tensor input, IntPair kernel, IntPair stride, IntPair padding,
        IntPair dilation, bool ceilMode, bool wantIndices)
    {
        Float(input, name);
        var x = Batched(input, name, out bool unbatched);
        int n = x.size(0), c = x.size(1);
        var geo = Pool2dGeometry.Create(name, n * c, x.size(2), x.size(3), kernel.H, kernel.W, stride.H, stride.W,
            padding.H, padding.W, dilation.H, dilation.W, ceilMode);
        var xc = x.ContiguousOrSelf();
        var y = Tensor.Empty([n, c, geo.OH, geo.OW], x.device, x.DType);
        var indices = Tensor.Empty([n, c, geo.OH, geo.OW], x.device, DType.Int32);
        x.Backend.MaxPool2d(xc, y, indices, geo);
        DisposeCopy(xc, x);
        if (Tape.Needed(x))
        {
            Tape.Record(y, name, x, gy =>
            {
                var gc = gy.ContiguousOrSelf();
                var gx = Tensor.Empty(x.ShapeArray, x.device, x.DType);
                x.Backend.MaxPool2dBackward(gc, indices, gx, geo);
                return gx;
            });
        }
        if (!wantIndices)
        {
            if (!Tape.Needed(x)) indices.Dispose();   // otherwise the backward holds them
            return (Unbatched(y, unbatched), null);
        }
        return (Unbatched(y, unbatched), Unbatched(indices, unbatched));
    }

    /// <summary>Average pooling (window or adaptive geometry); the backward spreads gy / divisor over each window.</summary>
    public static Tensor AvgPool(string name, Tensor input, Func<int, int, int, Pool2dGeometry> geometry)
    {
        Float(input, name);
        var x = Batched(input, name, out bool unbatched);
        int n = x.size(0), c = x.size(1);
        var geo = geometry(n * c, x.size(2), x.size(3));
        var xc = x.ContiguousOrSelf();
        var y = Tensor.Empty([n, c, geo.OH, geo.OW], x.device, x.DType);
        x.Backend.AvgPool2d(xc, y, geo);
        DisposeCopy(xc, x);
        Tape.Record(y, name, x, gy =>
        {
            var gc = gy.ContiguousOrSelf();
            var gx = Tensor.Empty(x.ShapeArray, x.device, x.DType);
            x.Backend.AvgPool2dBackward(gc, gx, geo);
            return gx;
        });
        return Unbatched(y, unbatched);
    }

    /// <summary>(N, C, 1, 1) → (N, C), or (C, 1, 1) → (C), unless <paramref name="keepdim"/>.</summary>
    public static Tensor DropSpatial(Tensor y, bool keepdim) => keepdim ? y : y.squeeze(-1).squeeze(-1);
}

public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            /// <summary>
            /// 2-D convolution of an (N, C, H, W) or (C, H, W) input with a weight (O, C, kH, kW) and an optional bias (O),
            /// as torch.nn.functional.conv2d: output (N, O, OH, OW) with OH = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1.
            /// stride, padding and dilation take an int or an (h, w) pair. Only groups = 1 is supported (anything else throws).
            /// </summary>
            public static Tensor conv2d(Tensor input, Tensor weight, Tensor? bias = null, IntPair? stride = null, IntPair? padding = null,
                IntPair? dilation = null, int groups = 1)
                => ConvPoolOps.Conv2d(input, weight, bias, stride ?? 1, padding ?? 0, dilation ?? 1, groups);

            /// <summary>Max pooling as torch.nn.functional.max_pool2d (stride defaults to the kernel size; padding at most
            /// half the kernel; padded positions never win). Ties keep the first position, NaN wins (the last NaN).</summary>
            public static Tensor max_pool2d(Tensor input, IntPair kernelSize, IntPair? stride = null, IntPair? padding = null,
                IntPair? dilation = null, bool ceilMode = false)
                => ConvPoolOps.MaxPool("max_pool2d", input, kernelSize, stride ?? kernelSize, padding ?? 0, dilation ?? 1, ceilMode, wantIndices: false).output;

            /// <summary>max_pool2d that also returns the argmax of each window as Int32 indices flat in the (H, W) plane
            /// (torch's return_indices=True, which gives int64).</summary>
            public static (Tensor output, Tensor indices) max_pool2d_with_indices(Tensor input, IntPair kernelSize, IntPair? stride = null,
                IntPair? padding = null, IntPair? dilation = null, bool ceilMode = false)
            {
                var (output, indices) = ConvPoolOps.MaxPool("max_pool2d", input, kernelSize, stride ?? kernelSize, padding ?? 0, dilation ?? 1, ceilMode, wantIndices: true);
                return (output, indices!);
            }

            /// <summary>Average pooling as torch.nn.functional.avg_pool2d: stride defaults to the kernel size; with
            /// <paramref name="countIncludePad"/> (the default) padded zeros count in the divisor; <paramref name="divisorOverride"/>
            /// replaces the divisor.</summary>
            public static Tensor avg_pool2d(Tensor input, IntPair kernelSize, IntPair? stride = null, IntPair? padding = null,
                bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
            {
                if (divisorOverride == 0) throw new ArgumentException("avg_pool2d: divisor_override must be non-zero, got 0");
                var s = stride ?? kernelSize;
                var p = padding ?? 0;
                return ConvPoolOps.AvgPool("avg_pool2d", input, (planes, h, w) => Pool2dGeometry.Create("avg_pool2d", planes, h, w,
                    kernelSize.H, kernelSize.W, s.H, s.W, p.H, p.W, 1, 1, ceilMode, countIncludePad, divisorOverride ?? 0));
            }

            /// <summary>Adaptive average pooling to <paramref name="outputSize"/> as torch.nn.functional.adaptive_avg_pool2d:
            /// output row oh averages input rows [⌊oh·H/OH⌋, ⌈(oh+1)·H/OH⌉), likewise columns.</summary>
            public static Tensor adaptive_avg_pool2d(Tensor input, IntPair outputSize)
                => ConvPoolOps.AvgPool("adaptive_avg_pool2d", input,
                    (planes, h, w) => Pool2dGeometry.CreateAdaptive("adaptive_avg_pool2d", planes, h, w, outputSize.H, outputSize.W));

            /// <summary>Global average pooling (GAP): the mean over H and W of each (N, C) plane, shape (N, C), or (N, C, 1, 1)
            /// with <paramref name="keepdim"/> — adaptive_avg_pool2d(x, 1).</summary>
            public static Tensor global_avg_pool2d(Tensor input, bool keepdim = false)
                => ConvPoolOps.DropSpatial(ConvPoolOps.AvgPool("global_avg_pool2d", input,
                    (planes, h, w) => Pool2dGeometry.CreateAdaptive("global_avg_pool2d", planes, h, w, 1, 1)), keepdim);

            /// <summary>Global max pooling (GMP): the maximum over H and W of each (N, C) plane, shape (N, C), or (N, C, 1, 1)
            /// with <paramref name="keepdim"/> — max_pool2d with an (H, W) kernel (adaptive_max_pool2d(x, 1)); the gradient
            /// goes to the first maximum of each plane.</summary>
            public static Tensor global_max_pool2d(Tensor input, bool keepdim = false)
            {
                if (input.dim() != 3 && input.dim() != 4)
                    throw new ArgumentException($"global_max_pool2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {Shape.Format(input.ShapeSpan)}");
                var plane = new IntPair(input.size(-2), input.size(-1));
                var (y, _) = ConvPoolOps.MaxPool("global_max_pool2d", input, plane, plane, 0, 1, false, wantIndices: false);
                return ConvPoolOps.DropSpatial(y, keepdim);
            }
        }
    }
}
