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
        => clip_grad_norm_(parameters, maxNorm, null, out _, normType, errorIfNonfinite);

    /// <summary>
    /// <see cref="clip_grad_norm_(IEnumerable{Tensor}, double, double, bool)"/> that also reads <paramref name="alsoRead"/>
    /// (a 1-D Float32 tensor on the gradients' device, e.g. a step's loss values) in the same device→host transfer as
    /// the gradients' norms: the training step's one host read. Off the CPU backend the per-tensor norms are reduced on
    /// the device and read all at once (never one read per parameter); the result is the same as reading each.
    /// </summary>
    public static double clip_grad_norm_(IEnumerable<Tensor> parameters, double maxNorm, Tensor? alsoRead, out float[] alsoValues,
        double normType = 2.0, bool errorIfNonfinite = false)
    {
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        bool inf = double.IsPositiveInfinity(normType);
        if (!inf && !(normType > 0)) throw new ArgumentException($"clip_grad_norm_: norm type must be positive or infinity, got {normType}");
        var norms = TensorNorms(grads, normType, alsoRead, out alsoValues);
        if (grads.Count == 0) return 0.0;
        float total;
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

    /// <summary>Each gradient's p-norm, and <paramref name="alsoRead"/>'s values: CPU Float32 contiguous gradients are read
    /// in place; the others are reduced on their device to one value each and read with <paramref name="alsoRead"/> in one
    /// transfer per device.</summary>
    static List<float> TensorNorms(List<Tensor> grads, double p, Tensor? alsoRead, out float[] alsoValues)
    {
        var norms = new float[grads.Count];
        var onDevice = new List<int>();
        for (int i = 0; i < grads.Count; i++)
        {
            var g = grads[i];
            if (g.device.IsCpu && g.DType == DType.Float32 && g.is_contiguous()) norms[i] = TensorNorm(g, p);
            else onDevice.Add(i);
        }
        alsoValues = [];
        bool alsoDone = alsoRead is null;
        foreach (var group in onDevice.GroupBy(i => grads[i].device))
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var parts = group.Select(i => DeviceNorm(grads[i], p).reshape([1])).ToList();
            bool withAlso = !alsoDone && alsoRead!.device == group.Key;
            if (withAlso) parts.Add(alsoRead!);
            var read = torch.cat(parts).ToArray();   // sync point: every gradient norm (and the step's values) in one read
            int k = 0;
            foreach (int i in group)
            {
                float v = read[k++];
                norms[i] = p == 2 || p == 1 || double.IsPositiveInfinity(p) ? v : (float)Math.Pow(v, 1 / p);
            }
            if (withAlso) { alsoValues = read[k..]; alsoDone = true; }
        }
        if (!alsoDone) alsoValues = alsoRead!.ToArray();   // sync point: no gradient on that device (or all on the CPU)
        return [.. norms];
    }

    /// <summary>A gradient's norm as a 0-D tensor on its device (for p other than 1, 2, ∞: Σ|g|^p, the root taken on the host).</summary>
    static Tensor DeviceNorm(Tensor g, double p)
    {
        var a = g.abs();
        if (double.IsPositiveInfinity(p)) return a.max();
        if (p == 2) return a.square().sum().sqrt();
        if (p == 1) return a.sum();
        return a.pow((float)p).sum();
    }

    /// <summary>The p-norm of one contiguous Float32 CPU tensor, read in place, accumulated in double and rounded to float.</summary>
    static float TensorNorm(Tensor g, double p)
    {
        bool inf = double.IsPositiveInfinity(p);
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
