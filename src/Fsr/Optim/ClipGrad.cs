namespace FsrNative.Optim;

/// <summary>Gradient clipping with torch.nn.utils.clip_grad_norm_'s semantics.</summary>
public static class GradClip
{
    /// <summary>
    /// Scales the gradients of <paramref name="parameters"/> in place so that their global norm (the
    /// <paramref name="normType"/>-norm of the per-tensor norms; ∞ for the largest magnitude) is at most
    /// <paramref name="maxNorm"/>: every gradient is multiplied by min(1, maxNorm / (total + 1e-6)), computed in
    /// float as torch does. Parameters without a gradient are ignored. Returns the total norm before clipping.
    /// With <paramref name="errorIfNonfinite"/> a NaN or infinite norm throws instead of scaling.
    /// </summary>
    public static double clip_grad_norm_(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2.0, bool errorIfNonfinite = false)
    {
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return 0.0;
        bool inf = double.IsPositiveInfinity(normType);
        if (!inf && !(normType > 0)) throw new ArgumentException($"clip_grad_norm_: norm type must be positive or infinity, got {normType}");
        float total;
        var norms = grads.Select(g => TensorNorm(g, normType)).ToList();
        if (inf) total = norms.Max();
        else
        {
            double acc = 0;
            foreach (var n in norms) acc += Math.Pow(n, normType);
            total = (float)Math.Pow(acc, 1 / normType);
        }
        if (errorIfNonfinite && !float.IsFinite(total))
            throw new InvalidOperationException($"clip_grad_norm_: the total norm of order {normType} of the gradients is non-finite ({total}), so it cannot be clipped");
        float coef = (float)maxNorm / (total + 1e-6f);
        if (coef > 1f) coef = 1f;   // torch.clamp(max=1.0) (NaN stays NaN)
        using (torch.no_grad())
            foreach (var g in grads) g.mul_(coef);
        return total;
    }

    /// <summary>The p-norm of one tensor, accumulated in double and rounded to float: read in place on the CPU
    /// backend, reduced by the engine's ops (one host read per tensor) on other devices.</summary>
    static float TensorNorm(Tensor g, double p)
    {
        bool inf = double.IsPositiveInfinity(p);
        if (!g.device.IsCpu || g.DType != DType.Float32 || !g.is_contiguous())
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var a = g.abs();
            if (inf) return a.max().item();
            if (p == 2) return a.square().sum().sqrt().item();
            if (p == 1) return a.sum().item();
            return (float)Math.Pow(a.pow((float)p).sum().item(), 1 / p);
        }
        ReadOnlySpan<float> v = g.AsSpan();
        if (inf)
        {
            float m = 0;
            foreach (float x in v) { float a = MathF.Abs(x); if (a > m || float.IsNaN(a)) m = a; }
            return m;
        }
        double acc = 0;
        if (p == 2)
        {
            int i = 0;
            if (System.Numerics.Vector.IsHardwareAccelerated && v.Length >= 16)
            {
                var lanes = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(v);
                var sumLo = System.Numerics.Vector<double>.Zero;
                var sumHi = System.Numerics.Vector<double>.Zero;
                foreach (var lane in lanes)
                {
                    System.Numerics.Vector.Widen(lane, out var lo, out var hi);
                    sumLo += lo * lo;
                    sumHi += hi * hi;
                }
                acc = System.Numerics.Vector.Sum(sumLo + sumHi);
                i = lanes.Length * System.Numerics.Vector<float>.Count;
            }
            for (; i < v.Length; i++) acc += (double)v[i] * v[i];
            return (float)Math.Sqrt(acc);
        }
        if (p == 1) { foreach (float x in v) acc += Math.Abs(x); return (float)acc; }
        foreach (float x in v) acc += Math.Pow(Math.Abs(x), p);
        return (float)Math.Pow(acc, 1 / p);
    }
}
