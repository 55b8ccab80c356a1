using FsrNative.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FsrNative.Tests.Kernels;

/// <summary>
/// kernels-ptx/attention_fwd.ptx executed on the CPU by <see cref="PtxInterpreter"/> (see <see cref="PtxGemmModelTests"/>
/// for what that model does and does not prove), against a double-precision attention on the same inputs: odd Nq and Nk
/// across tile boundaries, one query and one key, strided (fused-qkv-like) layouts, several heads and batches. Output O
/// and the log-sum-exp are compared with tolerances that cover TF32 rounding of Q, K, V and P (2^-11 relative each).
/// </summary>
[Trait("Category", "Kernels")]
public sealed class PtxAttentionModelTests(ITestOutputHelper output)
{
    static readonly Lazy<string> Ptx = new(() => File.ReadAllText(Path.Combine(RepoPaths.KernelsPtx, "attention_fwd.ptx")));

    [Theory]
    [InlineData(1, 2, 70, 67, false)]
    [InlineData(1, 1, 1, 1, false)]
    [InlineData(2, 2, 9, 130, true)]
    [InlineData(1, 1, 65, 64, true)]
    public void ForwardMatchesReference(int batch, int heads, int nq, int nk, bool fused)
    {
        const int d = 64;
        var rng = new Random(batch * 1000 + heads * 100 + nq * 10 + nk);
        // Layouts: contiguous (B, H, N, D), or fused (B, N, H, D) as a view of a qkv projection (row stride H·D, + offset).
        (int sb, int sh, int sr, int off, int len) Layout(int n) => fused
            ? (n * heads * d + 3, d, heads * d, 7, 7 + batch * (n * heads * d + 3))
            : (heads * n * d, n * d, d, 0, batch * heads * n * d);
        var lq = Layout(nq); var lk = Layout(nk); var lv = Layout(nk);
        var q = Random(rng, lq.len, 1.5); var k = Random(rng, lk.len, 1.5); var v = Random(rng, lv.len, 1.0);
        var o = new float[batch * heads * nq * d]; var lse = new float[batch * heads * nq];
        float scale = 1f / MathF.Sqrt(d);

        var ptx = new PtxInterpreter(Ptx.Value);
        ulong pq = ptx.Alloc(q) + (ulong)lq.off * 4, pk = ptx.Alloc(k) + (ulong)lk.off * 4, pv = ptx.Alloc(v) + (ulong)lv.off * 4;
        ptx.Launch(((nq + 63) / 64, batch * heads, 1), 128, pq, pk, pv, ptx.Alloc(o), ptx.Alloc(lse), heads, nq, nk,
            lq.sb, lq.sh, lq.sr, lk.sb, lk.sh, lk.sr, lv.sb, lv.sh, lv.sr, scale);
        output.WriteLine($"{ptx.Entry}: {ptx.Executed} warp instructions, {ptx.SharedBytes} bytes shared");

        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < nq; i++)
                {
                    var s = new double[nk];
                    double m = double.NegativeInfinity;
                    for (int j = 0; j < nk; j++)
                    {
                        double dot = 0;
                        for (int c = 0; c < d; c++)
                            dot += (double)q[lq.off + b * lq.sb + h * lq.sh + i * lq.sr + c] * k[lk.off + b * lk.sb + h * lk.sh + j * lk.sr + c];
                        s[j] = dot * scale; m = Math.Max(m, s[j]);
                    }
                    double l = 0;
                    for (int j = 0; j < nk; j++) l += Math.Exp(s[j] - m);
                    int row = (b * heads + h) * nq + i;
                    Assert.True(Math.Abs(lse[row] - (m + Math.Log(l))) < 2e-3, $"lse[{b},{h},{i}] = {lse[row]}, expected {m + Math.Log(l)}");
                    for (int c = 0; c < d; c++)
                    {
                        double want = 0;
                        for (int j = 0; j < nk; j++) want += Math.Exp(s[j] - m) / l * v[lv.off + b * lv.sb + h * lv.sh + j * lv.sr + c];
                        Assert.True(Math.Abs(o[row * d + c] - want) < 3e-3, $"O[{b},{h},{i},{c}] = {o[row * d + c]}, expected {want}");
                    }
                }
    }

    static float[] Random(Random rng, int n, double scale)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return x;
    }
}
