using FsrNative.Kernels.Cpu;
using Xunit;

namespace FsrNative.Tests.Kernels;

/// <summary>CpuLayerNorm: forward (affine or not, c = 1), fused residual, backward with γ/β gradients, determinism.</summary>
[Trait("Category", "Kernels")]
public class CpuLayerNormTests
{
    public static readonly (int rows, int c)[] Shapes =
    [
        (1, 1), (5, 1), (3, 7), (2, 8), (4, 9), (3, 33), (2, 1000), (97, 768), (1, 100003), (300, 257), (6272 / 16, 768),
    ];

    public static IEnumerable<object[]> Cases()
    {
        for (int s = 0; s < Shapes.Length; s++)
        {
            yield return [s, true];
            yield return [s, false];
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesReference(int shape, bool affine)
    {
        var (rows, c) = Shapes[shape];
        var x = CpuTestData.Uniform(rows * c, 10 + shape, -3f, 5f);
        var gamma = affine ? CpuTestData.Uniform(c, 1, 0.5f, 1.5f) : [];
        var beta = affine ? CpuTestData.Uniform(c, 2, -0.5f, 0.5f) : [];
        var ey = new float[x.Length]; var em = new float[rows]; var er = new float[rows];
        var ay = new float[x.Length]; var am = new float[rows]; var ar = new float[rows];
        CpuLayerNorm.ForwardReference(x, gamma, beta, ey, em, er, rows, c, 1e-5f);
        CpuLayerNorm.Forward(x, gamma, beta, ay, am, ar, rows, c, 1e-5f);
        CpuTestData.AssertClose(ey, ay, 1e-5, 1e-5, $"layer_norm ({rows},{c}) affine={affine}");
        CpuTestData.AssertClose(em, am, 1e-6, 1e-6, "mean");
        CpuTestData.AssertClose(er, ar, 1e-5, 0, "rstd");
        if (c == 1) Assert.All(ay, (v, i) => Assert.Equal(affine ? beta[0] : 0f, v));

        // fused residual: sum = x + res, then layer_norm(sum) — identical bits to the unfused pair
        var res = CpuTestData.Uniform(x.Length, 20 + shape);
        var sum = new float[x.Length]; var fy = new float[x.Length]; var fm = new float[rows]; var fr = new float[rows];
        CpuLayerNorm.ForwardResidual(x, res, sum, gamma, beta, fy, fm, fr, rows, c, 1e-5f);
        var sum2 = new float[x.Length];
        for (int i = 0; i < x.Length; i++) sum2[i] = x[i] + res[i];
        var uy = new float[x.Length];
        CpuLayerNorm.Forward(sum2, gamma, beta, uy, default, default, rows, c, 1e-5f);
        CpuTestData.AssertBitwiseEqual(sum2, sum, "residual sum");
        CpuTestData.AssertBitwiseEqual(uy, fy, "fused residual layer_norm");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_MatchesReference_AndIsDeterministic(int shape, bool affine)
    {
        var (rows, c) = Shapes[shape];
        var x = CpuTestData.Uniform(rows * c, 30 + shape, -3f, 5f);
        var gamma = affine ? CpuTestData.Uniform(c, 3, 0.5f, 1.5f) : [];
        var mean = new float[rows]; var rstd = new float[rows];
        CpuLayerNorm.Forward(x, gamma, gamma, new float[x.Length], mean, rstd, rows, c, 1e-5f);
        var gy = CpuTestData.Uniform(x.Length, 40 + shape, -1f, 1f);
        var egx = new float[x.Length]; var egg = new float[c]; var egb = new float[c];
        var agx = new float[x.Length]; var agg = new float[c]; var agb = new float[c];
        CpuLayerNorm.BackwardReference(x, gamma, mean, rstd, gy, egx, egg, egb, rows, c);
        CpuLayerNorm.Backward(x, gamma, mean, rstd, gy, agx, agg, agb, rows, c);
        CpuTestData.AssertClose(egx, agx, 1e-4, 2e-5, $"gx ({rows},{c})");
        CpuTestData.AssertClose(egg, agg, 1e-4, 1e-5 * Math.Sqrt(rows), "gGamma");
        CpuTestData.AssertClose(egb, agb, 1e-4, 1e-5 * Math.Sqrt(rows), "gBeta");

        var gx2 = new float[x.Length]; var gg2 = new float[c]; var gb2 = new float[c];
        CpuLayerNorm.Backward(x, gamma, mean, rstd, gy, gx2, gg2, gb2, rows, c);
        CpuTestData.AssertBitwiseEqual(agx, gx2, "gx repeat");
        CpuTestData.AssertBitwiseEqual(agg, gg2, "gGamma repeat");
        CpuTestData.AssertBitwiseEqual(agb, gb2, "gBeta repeat");
        var gx3 = new float[x.Length];
        CpuLayerNorm.Backward(x, gamma, mean, rstd, gy, gx3, default, default, rows, c); // skip γ/β gradients
        CpuTestData.AssertBitwiseEqual(agx, gx3, "gx without γ/β gradients");
    }

    [Fact]
    public void Forward_AccurateWhenFirstElementIsAnOutlier_OrMeanDominates()
    {
        int rows = 4, c = 777;
        var x = CpuTestData.Uniform(rows * c, 7, -1f, 1f);
        x[0] = 1000f;                                                // row 0: shift far from the mean (second pass)
        for (int j = 0; j < c; j++) x[c + j] += 10000f;              // row 1: |μ| ≫ σ
        x[2 * c] = -3f;                                              // row 2: shift just beyond 3σ
        for (int j = 0; j < c; j++) x[3 * c + j] = 5f;               // row 3: constant row (var 0)
        var ey = new float[x.Length]; var em = new float[rows]; var er = new float[rows];
        var ay = new float[x.Length]; var am = new float[rows]; var ar = new float[rows];
        CpuLayerNorm.ForwardReference(x, [], [], ey, em, er, rows, c, 1e-5f);
        CpuLayerNorm.Forward(x, [], [], ay, am, ar, rows, c, 1e-5f);
        CpuTestData.AssertClose(er, ar, 2e-5, 0, "rstd");
        // row 1: x − μ itself is rounded at 10000 (ulp 1e-3), as in any float32 implementation
        CpuTestData.AssertClose(ey.AsSpan(0, c), ay.AsSpan(0, c), 1e-5, 1e-5, "outlier row");
        CpuTestData.AssertClose(ey.AsSpan(c, c), ay.AsSpan(c, c), 1e-5, 3e-3, "large-mean row");
        CpuTestData.AssertClose(ey.AsSpan(2 * c), ay.AsSpan(2 * c), 1e-5, 1e-5, "rows 2-3");
    }
}
