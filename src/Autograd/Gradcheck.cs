namespace FsrNative;

/// <summary>
/// Finite-difference gradient check in float64 on the CPU backend, the way torch.autograd.gradcheck does it:
/// every input is copied to a Float64 leaf, the function's output y is projected on a few random directions u,
/// and for each u the analytical gradient ∂(u·y)/∂x from one backward pass is compared with central differences
/// (u·(y(x+h·eᵢ) − y(x−h·eᵢ)))/(2h) for every input element i. A wrong backward rule fails for almost every u.
/// Keep inputs small (every input element costs two forward passes) and away from kinks (relu at 0, clamp bounds).
/// </summary>
public static class Gradcheck
{
    public sealed record Options(double Eps = 1e-6, double Atol = 1e-5, double Rtol = 1e-3, int Projections = 3, ulong Seed = 1234);

    /// <summary>Throws <see cref="GradcheckException"/> describing the worst mismatch if any element fails.</summary>
    public static void Assert(string what, Func<Tensor[], Tensor> f, Tensor[] inputs, Options? options = null)
    {
        var failure = Check(f, inputs, options);
        if (failure is not null) throw new GradcheckException($"gradcheck {what}: {failure}");
    }

    /// <summary>Returns null when every gradient element agrees, else a description of the first mismatches.</summary>
    public static string? Check(Func<Tensor[], Tensor> f, Tensor[] inputs, Options? options = null)
    {
        var o = options ?? new Options();
        using var scope = DisposeScope.Open();
        // Float inputs become Float64 leaves; others (Int32 indices) are passed through unchanged and not differentiated.
        var differentiable = inputs.Select(t => t.DType.IsFloatingPoint()).ToArray();
        var leaves = inputs.Select((t, i) => differentiable[i] ? t.to(DType.Float64).contiguous().detach() : t).ToArray();
        for (int i = 0; i < leaves.Length; i++) leaves[i].requires_grad = differentiable[i];

        // Central differences of the whole output for each input element (shared by all projections).
        double[] Evaluate()
        {
            using (torch.no_grad())
            using (DisposeScope.Open())
                return f(leaves).ToDoubleArray();
        }
        var y0 = Evaluate();
        var rng = new Random((int)o.Seed);
        var directions = Enumerable.Range(0, o.Projections).Select(_ => y0.Select(_ => rng.NextDouble() * 2 - 1).ToArray()).ToArray();
        var numeric = new double[leaves.Length][][]; // [input][projection][element]
        for (int i = 0; i < leaves.Length; i++)
        {
            numeric[i] = new double[o.Projections][];
            for (int p = 0; p < o.Projections; p++) numeric[i][p] = new double[leaves[i].NumEl];
            if (!differentiable[i]) continue;
            var data = leaves[i].AsDoubleSpan();
            for (int e = 0; e < leaves[i].NumEl; e++)
            {
                double saved = leaves[i].AsDoubleSpan()[e];
                leaves[i].AsDoubleSpan()[e] = saved + o.Eps;
                var plus = Evaluate();
                leaves[i].AsDoubleSpan()[e] = saved - o.Eps;
                var minus = Evaluate();
                leaves[i].AsDoubleSpan()[e] = saved;
                for (int p = 0; p < o.Projections; p++)
                {
                    double s = 0;
                    for (int j = 0; j < plus.Length; j++) s += directions[p][j] * (plus[j] - minus[j]);
                    numeric[i][p][e] = s / (2 * o.Eps);
                }
            }
        }

        // Analytical: one backward per projection.
        var problems = new List<string>();
        for (int p = 0; p < o.Projections; p++)
        {
            foreach (var leaf in leaves) { leaf.grad?.Dispose(); leaf.grad = null; }
            var y = f(leaves);
            if (!y.requires_grad) return "the output does not require grad: no input reaches it differentiably";
            using var u = torch.tensor(directions[p], y.shape);
            y.backward(u);
            for (int i = 0; i < leaves.Length; i++)
            {
                if (!differentiable[i]) continue;
                var analytic = leaves[i].grad?.ToDoubleArray() ?? new double[leaves[i].NumEl];
                for (int e = 0; e < analytic.Length; e++)
                {
                    double a = analytic[e], n = numeric[i][p][e];
                    if (!(Math.Abs(a - n) <= o.Atol + o.Rtol * Math.Abs(n)) && problems.Count < 5)
                        problems.Add($"input {i} element {e} (projection {p}): analytical {a:G9}, numerical {n:G9}");
                }
            }
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }
}

public sealed class GradcheckException(string message) : Exception(message);
