using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Gradcheck;

/// <summary>
/// Runs <see cref="FsrNative.Gradcheck.Assert"/> on inputs described like <see cref="OpCheck"/>'s: each spec's values
/// fill a base tensor (converted to Float64 by gradcheck; Int32 index specs stay Int32), and the spec's layout
/// (transposed, narrowed, expanded, permuted) is applied inside the checked function, so views are
/// differentiated too. Float32 sample values are exact doubles: only the arithmetic is float64.
/// </summary>
public static class GC
{
    public static void Check(string what, In[] inputs, Func<Tensor[], Tensor> f, ValueMaker? values = null, FsrNative.Gradcheck.Options? options = null)
    {
        using var scope = DisposeScope.Open();
        ulong seed = TestRandom.SeedFor("gradcheck " + what + string.Join(",", inputs.Select(i => i.ToString())));
        var tensors = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            var spec = inputs[i];
            ulong s = seed + (ulong)i * 0x9E3779B97F4A7C15UL;
            var baseShape = spec.Layout.BaseShape(spec.Shape);
            if (spec.IsIndex)
            {
                var idx = (spec.Layout == Layout.Contiguous ? spec.IndexValues : null) ?? TestRandom.Integers(s, TestRandom.Numel(baseShape), 0, Math.Max(spec.IndexHigh, 1));
                tensors[i] = torch.tensor((ReadOnlySpan<int>)idx, baseShape);
                continue;
            }
            var data = (spec.Values ?? values ?? Values.Uniform())(s, TestRandom.Numel(baseShape));
            tensors[i] = torch.tensor((ReadOnlySpan<double>)Array.ConvertAll(data, v => (double)v), baseShape);
        }
        // Inputs that are not differentiated (masks, "!" specs) stay outside gradcheck's list, captured here;
        // index inputs go through it (gradcheck leaves Int32 inputs alone).
        var checkedAt = Enumerable.Range(0, inputs.Length).Where(i => inputs[i].Grad || inputs[i].IsIndex).ToArray();
        FsrNative.Gradcheck.Assert(what, leaves =>
        {
            var all = (Tensor[])tensors.Clone();
            for (int k = 0; k < checkedAt.Length; k++) all[checkedAt[k]] = leaves[k];
            var viewed = new Tensor[all.Length];
            for (int i = 0; i < all.Length; i++)
                viewed[i] = inputs[i].Layout.Ours(all[i], inputs[i].Shape);
            return f(viewed);
        }, checkedAt.Select(i => tensors[i]).ToArray(), options);
    }
}
