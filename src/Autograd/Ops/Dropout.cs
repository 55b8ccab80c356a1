using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// Dropout and drop-path (stochastic depth) with Philox masks: element i of a draw is kept when
/// Philox.Uniform(seed, stream, i) &lt; 1 − p, every backend evaluating the same formula, so a seed gives the same mask
/// on the CPU and the GPU. Each call takes one stream of its generator; the backward multiplies the gradient by the
/// same mask, recomputed from (seed, stream) rather than stored.
/// </summary>
public static partial class TensorOps
{
    /// <summary>(keep probability, factor of kept elements) for drop probability p.</summary>
    static (float keep, float scale) DropFactors(double p, bool scaleByKeep)
        => ((float)(1 - p), !scaleByKeep ? 1f : p < 1 ? (float)(1 / (1 - p)) : 0f);

    static void CheckP(double p, string name)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), $"{name}: drop probability must be in [0, 1], got {p}");
    }

    internal static Tensor Dropout(Tensor x, double p, bool training, Generator? generator)
    {
        const string name = "dropout";
        Float(x, name);
        CheckP(p, name);
        if (!training || p == 0) return x;
        var gen = generator ?? Generator.Default;
        ulong seed = gen.Seed, stream = gen.NextStream();
        var (keep, scale) = DropFactors(p, true);
        var xc = x.ContiguousOrSelf();
        var y = Tensor.Empty(x.ShapeArray, x.device, x.DType);
        x.Backend.Dropout(xc, y, keep, scale, seed, stream);
        if (!ReferenceEquals(xc, x)) xc.Dispose();
        return Tape.Record(y, name, x, g =>
        {
            var gc = g.ContiguousOrSelf();
            var gx = Tensor.Empty(x.ShapeArray, x.device, x.DType);
            x.Backend.Dropout(gc, gx, keep, scale, seed, stream);
            if (!ReferenceEquals(gc, g)) gc.Dispose();
            return gx;
        });
    }

    /// <summary>The per-sample factors of drop_path: shape (N, 1, …, 1), each 1/(1−p) (or 1) with probability 1 − p, else 0.</summary>
    internal static Tensor DropPathMask(Tensor x, double p, Generator? generator, bool scaleByKeep)
    {
        var shape = new int[x.dim()];
        Array.Fill(shape, 1);
        shape[0] = x.size(0);
        var gen = generator ?? Generator.Default;
        var (keep, scale) = DropFactors(p, scaleByKeep);
        var ones = torch.ones(shape, x.device, dtype: x.DType);
        var mask = Tensor.Empty(shape, x.device, x.DType);
        x.Backend.Dropout(ones, mask, keep, scale, gen.Seed, gen.NextStream());
        ones.Dispose();
        return mask;
    }
}

public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            /// <summary>
            /// Zeroes each element with probability <paramref name="p"/> and scales the rest by 1/(1 − p), as
            /// torch.nn.functional.dropout; returns <paramref name="input"/> itself when not training or p = 0. The mask
            /// comes from <paramref name="generator"/> (the default generator when null).
            /// </summary>
            public static Tensor dropout(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
                => TensorOps.Dropout(input, p, training, generator);

            /// <summary>
            /// Stochastic depth, timm's <c>drop_path</c>: one Bernoulli(1 − p) draw per sample (the leading dimension)
            /// multiplies the whole sample, scaled by 1/(1 − p) when <paramref name="scale_by_keep"/>; returns
            /// <paramref name="input"/> itself when not training or p = 0. The gradient is multiplied by the same factors.
            /// </summary>
            public static Tensor drop_path(Tensor input, double p = 0.0, bool training = false, Generator? generator = null, bool scale_by_keep = true)
            {
                const string name = "drop_path";
                OpSupport.Float(input, name);
                if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), $"{name}: drop probability must be in [0, 1], got {p}");
                if (p == 0 || !training) return input;
                if (input.dim() == 0) throw new ArgumentException($"{name}: input must have a leading (sample) dimension, got a 0-D tensor");
                var mask = TensorOps.DropPathMask(input, p, generator, scale_by_keep);   // saved by mul for the backward
                return input.mul(mask);
            }
        }
    }
}
