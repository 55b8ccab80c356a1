using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;
using FsrNative.Kernels.Cpu.Reference;
using Xunit;

namespace FsrNative.Tests.Kernels;

/// <summary>
/// CpuAttention (blocked SIMD) against ReferenceAttention in double, on padded, strided operands: query blocks with
/// partial tails and the dot-product path for short blocks, key counts around the 16-column tiles, 0 and 1 keys,
/// broadcast and transposed masks with fully masked rows, dropout, head dimensions 1 to 128.
/// </summary>
[Trait("Category", "Kernels")]
public unsafe class CpuAttentionTests
{
    public sealed record Case(string Name, int B, int H, int Nq, int Nk, int D, int Dv, string Mask = "", float Keep = 1f);

    public static readonly Case[] Cases =
    [
        new("one row, one key", 1, 1, 1, 1, 8, 8),
        new("direct path (5 queries)", 2, 3, 5, 37, 17, 9),
        new("block tail (61 queries)", 1, 2, 61, 50, 64, 64),
        new("three blocks", 1, 1, 130, 33, 16, 24),
        new("key tiles 16/8/tail", 2, 1, 13, 31, 8, 8),
        new("no keys", 1, 2, 7, 0, 8, 5),
        new("d = 1, dv = 128", 1, 1, 9, 12, 1, 128),
        new("d = 128", 1, 1, 20, 25, 128, 40),
        new("row mask (col stride 1)", 2, 2, 19, 23, 8, 8, "row"),
        new("key mask broadcast over queries", 2, 2, 19, 23, 8, 8, "key"),
        new("scalar-per-row mask (col stride 0)", 1, 2, 9, 17, 8, 8, "perrow"),
        new("transposed mask (col stride ≠ 1)", 1, 2, 61, 17, 8, 8, "transposed"),
        new("dropout", 2, 2, 70, 29, 16, 16, "row", 0.7f),
        new("dropout, direct path", 1, 3, 2, 29, 16, 16, "", 0.5f),
    ];

    public static IEnumerable<object[]> CaseIndices() => Enumerable.Range(0, Cases.Length).Select(i => new object[] { i });

    const int Pad = 3, Off = 5;

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void MatchesReference(int index)
    {
        _ = CpuTestData.Lengths;   // the threaded paths from 16K work on
        var c = Cases[index];
        int heads = c.B * c.H;
        // q, k, v with row stride D + 3 and offset 5 (rows of a wider buffer, as after slicing).
        var g = new AttentionGeometry
        {
            B = c.B, H = c.H, Nq = c.Nq, Nk = c.Nk, D = c.D, Dv = c.Dv,
            QOffset = Off, QStrideRow = c.D + Pad, QStrideH = c.Nq * (c.D + Pad), QStrideB = c.H * c.Nq * (c.D + Pad),
            KOffset = Off, KStrideRow = c.D + Pad, KStrideH = c.Nk * (c.D + Pad), KStrideB = c.H * c.Nk * (c.D + Pad),
            VOffset = Off, VStrideRow = c.Dv + Pad, VStrideH = c.Nk * (c.Dv + Pad), VStrideB = c.H * c.Nk * (c.Dv + Pad),
            Scale = 1f / MathF.Sqrt(c.D), KeepProb = c.Keep, DropScale = 1f / c.Keep, Seed = 9, Stream = 2,
        };
        var q = CpuTestData.Uniform(Off + heads * c.Nq * (c.D + Pad), 1, -1, 1);
        var k = CpuTestData.Uniform(Off + heads * c.Nk * (c.D + Pad), 2, -1, 1);
        var v = CpuTestData.Uniform(Off + heads * c.Nk * (c.Dv + Pad), 3, -1, 1);
        var go = CpuTestData.Uniform(heads * c.Nq * c.Dv, 4, -1, 1);
        float[] mask = [0f];
        if (c.Mask != "")
        {
            g.HasMask = 1;
            (mask, g.MaskStrideB, g.MaskStrideH, g.MaskStrideRow, g.MaskStrideCol) = c.Mask switch
            {
                "row" => (CpuTestData.Uniform(c.B * c.Nq * c.Nk, 5, -2, 2), c.Nq * c.Nk, 0, c.Nk, 1),
                "key" => (CpuTestData.Uniform(c.B * c.Nk, 5, -2, 2), c.Nk, 0, 0, 1),
                "perrow" => (CpuTestData.Uniform(c.H * c.Nq, 5, -2, 2), 0, c.Nq, 1, 0),
                _ => (CpuTestData.Uniform(c.Nk * c.Nq, 5, -2, 2), 0, 0, 1, c.Nq),   // transposed: (Nk, Nq) storage
            };
            for (int i = 0; i < mask.Length; i += 4) mask[i] = float.NegativeInfinity;
            if (c.Mask == "row") Array.Fill(mask, float.NegativeInfinity, 2 * c.Nk, c.Nk);   // query 2 of batch 0 fully masked
            if (c.Mask == "perrow") mask[1] = float.NegativeInfinity;                          // query 1 of head 0 fully masked
        }

        var o = new float[heads * c.Nq * c.Dv];
        var lse = new float[heads * c.Nq];
        var probs = new float[heads * c.Nq * c.Nk];
        var dq = new float[heads * c.Nq * c.D];
        var dk = new float[heads * c.Nk * c.D];
        var dv = new float[heads * c.Nk * c.Dv];
        fixed (float* pq = q, pk = k, pv = v, pm = mask, po = o, pl = lse, pp = probs, pgo = go, pdq = dq, pdk = dk, pdv = dv)
        {
            CpuAttention.Forward(pq, pk, pv, pm, g, po, pl);
            CpuAttention.Probs(pq, pk, pm, g, pl, pp);
            CpuAttention.Backward(pq, pk, pv, pm, g, po, pl, pgo, pdq, pdk, pdv);
        }

        static double[] D(float[] a) => Array.ConvertAll(a, x => (double)x);
        var eo = new double[o.Length]; var el = new double[lse.Length]; var ep = new double[probs.Length];
        var edq = new double[dq.Length]; var edk = new double[dk.Length]; var edv = new double[dv.Length];
        ReferenceAttention<double>.Forward(D(q), D(k), D(v), D(mask), g, eo, el);
        ReferenceAttention<double>.Probs(D(q), D(k), D(mask), g, el, ep);
        ReferenceAttention<double>.Backward(D(q), D(k), D(v), D(mask), g, eo, el, D(go), edq, edk, edv);

        static float[] Fl(double[] a) => Array.ConvertAll(a, x => (float)x);
        CpuTestData.AssertClose(Fl(eo), o, 1e-4, 2e-6, $"{c.Name}: output");
        CpuTestData.AssertClose(Fl(el), lse, 1e-5, 2e-6, $"{c.Name}: lse");
        CpuTestData.AssertClose(Fl(ep), probs, 1e-4, 1e-6, $"{c.Name}: probabilities");
        CpuTestData.AssertClose(Fl(edq), dq, 1e-4, 1e-5, $"{c.Name}: dq");
        CpuTestData.AssertClose(Fl(edk), dk, 1e-4, 1e-5, $"{c.Name}: dk");
        CpuTestData.AssertClose(Fl(edv), dv, 1e-4, 1e-5, $"{c.Name}: dv");
    }

    /// <summary>Dropout factors: the same bits as Philox.Uniform per element, whatever the starting index's lane.</summary>
    [Fact]
    public void DropoutFactorsMatchPhilox()
    {
        var z = new float[37];
        fixed (float* pz = z)
            foreach (long start in new long[] { 0, 1, 2, 3, 5, 1L << 33 })
            {
                CpuDropout.Factors(pz, z.Length, start, 123, 4, 0.6f, 2.5f);
                for (int j = 0; j < z.Length; j++)
                    Assert.Equal(FsrNative.Kernels.Random.Philox.Uniform(123, 4, start + j) < 0.6f ? 2.5f : 0f, z[j]);
            }
    }
}
