using FsrNative.Kernels;
using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// Resampling: <c>interpolate</c> (nearest / bilinear / bicubic on N×C×H×W) and <c>flip</c>. One kernel forward, one
/// backward (the transposed resampling, deterministic on every backend); the index and weight rules are ATen's
/// (<see cref="ResampleMath"/>).
/// </summary>
public static partial class TensorOps
{
    extension(Tensor x)
    {
        /// <summary>Reverses the order of elements along <paramref name="dims"/> (a copy, as in PyTorch). Any element
        /// type; the gradient is the same flip of the output gradient.</summary>
        public Tensor flip(params int[] dims) => Flip(x, dims);
    }

    static Tensor Flip(Tensor x, int[] dims)
    {
        const string name = "flip";
        var axes = NormalizeAxes(dims, x.dim(), name);
        if (dims.Length == 0) axes = [];   // flip(dims=[]) flips nothing (PyTorch), unlike a reduction's "all axes"
        var src = x.ContiguousOrSelf();
        var current = src;
        foreach (int axis in axes)
        {
            var (outer, n, inner) = Around(current.ShapeSpan, axis);
            var next = Tensor.Empty(x.ShapeArray, x.device, x.DType);
            x.Backend.Flip(current, next, outer, n, inner);
            if (!ReferenceEquals(current, x)) current.Dispose();
            current = next;
        }
        var y = ReferenceEquals(current, x) ? x.ContiguousCopy() : current;
        if (!x.DType.IsFloatingPoint()) return y;
        return Tape.Record(y, name, x, g => Flip(g, axes));
    }

    /// <summary>A fresh contiguous copy that is never recorded.</summary>
    static Tensor ContiguousCopy(this Tensor x)
    {
        var c = Tensor.Empty(x.ShapeArray, x.device, x.DType);
        x.Backend.Copy(x, c);
        return c;
    }

    /// <summary>interpolate's rules, see <see cref="torch.nn.functional.interpolate"/>.</summary>
    internal static Tensor Interpolate(Tensor x, int[]? size, double[]? scaleFactor, string mode, bool? alignCorners, bool? recomputeScaleFactor)
    {
        const string name = "interpolate";
        Float(x, name);
        var kind = mode switch
        {
            "nearest" => ResampleMode.Nearest,
            "bilinear" => ResampleMode.Linear,
            "bicubic" => ResampleMode.Cubic,
            _ => throw new NotSupportedException($"{name}: mode '{mode}' is not supported (nearest, bilinear, bicubic)"),
        };
        if (x.dim() != 4)
            throw new ArgumentException($"{name}: expected a 4-D (N, C, H, W) input for mode '{mode}', got shape {Shape.Format(x.ShapeSpan)}");
        if (kind == ResampleMode.Nearest && alignCorners is not null)
            throw new ArgumentException($"{name}: align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear (mode is '{mode}')");
        if ((size is null) == (scaleFactor is null))
            throw new ArgumentException($"{name}: give exactly one of size and scale_factor (got {(size is null ? "neither" : "both")})");
        int inH = x.size(2), inW = x.size(3);
        int outH, outW;
        double? sfH = null, sfW = null;
        if (size is not null)
        {
            if (size.Length != 1 && size.Length != 2)
                throw new ArgumentException($"{name}: size must have 1 or 2 entries for a 4-D input, got {size.Length}");
            outH = size[0];
            outW = size[^1];
        }
        else
        {
            var sf = scaleFactor!;
            if (sf.Length != 1 && sf.Length != 2)
                throw new ArgumentException($"{name}: scale_factor must have 1 or 2 entries for a 4-D input, got {sf.Length}");
            foreach (double f in sf)
                if (!(f > 0) || double.IsInfinity(f)) throw new ArgumentException($"{name}: scale_factor must be positive and finite, got {f}");
            outH = (int)Math.Floor(inH * sf[0]);
            outW = (int)Math.Floor(inW * sf[^1]);
            if (recomputeScaleFactor != true) { sfH = sf[0]; sfW = sf[^1]; }   // ATen then maps with 1/scale_factor
        }
        if (outH <= 0 || outW <= 0)
            throw new ArgumentException($"{name}: output size ({outH}, {outW}) must be positive (input {Shape.Format(x.ShapeSpan)})");
        if (inH == 0 || inW == 0)
            throw new ArgumentException($"{name}: cannot resample an input with an empty spatial dimension, shape {Shape.Format(x.ShapeSpan)}");
        bool align = alignCorners ?? false;
        var h = ResampleAxis.Create(inH, outH, align, sfH);
        var w = ResampleAxis.Create(inW, outW, align, sfW);
        int planes = x.size(0) * x.size(1);

        var xc = x.ContiguousOrSelf();
        var y = Tensor.Empty([x.size(0), x.size(1), outH, outW], x.device, x.DType);
        x.Backend.Resample(xc, y, planes, kind, h, w);
        if (!ReferenceEquals(xc, x)) xc.Dispose();
        return Tape.Record(y, $"interpolate({mode})", x, g =>
        {
            var gc = g.ContiguousOrSelf();
            var gx = Tensor.Empty(x.ShapeArray, x.device, x.DType);
            x.Backend.ResampleBackward(gc, gx, planes, kind, h, w);
            return gx;
        });
    }
}

public static partial class torch
{
    /// <summary>Reverses the order of elements along <paramref name="dims"/>.</summary>
    public static Tensor flip(Tensor input, params int[] dims) => input.flip(dims);

    public static partial class nn
    {
        public static partial class functional
        {
            /// <summary>
            /// Resizes an (N, C, H, W) tensor as torch.nn.functional.interpolate: give <paramref name="size"/> ([H′, W′] or
            /// one value for both) or <paramref name="scale_factor"/> (one or two factors; the output is ⌊in·factor⌋).
            /// Modes: "nearest" (PyTorch's legacy floor rule), "bilinear", "bicubic" (A = −0.75, border-clamped taps);
            /// <paramref name="align_corners"/> (bilinear/bicubic only, default false) selects the corner-aligned mapping.
            /// As in PyTorch, a given scale factor maps coordinates with 1/scale_factor unless
            /// <paramref name="recompute_scale_factor"/> is true (then in/out). Antialiasing is not implemented.
            /// </summary>
            public static Tensor interpolate(Tensor input, int[]? size = null, double[]? scale_factor = null, string mode = "nearest",
                bool? align_corners = null, bool? recompute_scale_factor = null)
                => TensorOps.Interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor);
        }
    }
}
