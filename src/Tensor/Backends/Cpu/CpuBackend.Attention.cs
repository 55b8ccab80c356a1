using FsrNative.Kernels;
using FsrNative.Kernels.Cpu;
using RefAttention = FsrNative.Kernels.Cpu.Reference.ReferenceAttention<double>;

namespace FsrNative;

/// <summary>Attention and dropout on the CPU: Float32 through the blocked SIMD kernels (CpuAttention, CpuDropout),
/// Float64 through the reference kernels.</summary>
public sealed unsafe partial class CpuBackend
{
    /// <summary>Checks that every element the geometry can address lies inside each operand's storage.</summary>
    static void CheckAttention(in AttentionArgs a, string op)
    {
        var g = a.Geometry;
        if (g.B * g.H == 0 || g.Nq == 0 && g.Nk == 0) return;
        CheckSpan(a.Q, g.QOffset, [(g.B, g.QStrideB), (g.H, g.QStrideH), (g.Nq, g.QStrideRow), (g.D, 1)], op, "query");
        CheckSpan(a.K, g.KOffset, [(g.B, g.KStrideB), (g.H, g.KStrideH), (g.Nk, g.KStrideRow), (g.D, 1)], op, "key");
        CheckSpan(a.V, g.VOffset, [(g.B, g.VStrideB), (g.H, g.VStrideH), (g.Nk, g.VStrideRow), (g.Dv, 1)], op, "value");
        if (g.HasMask != 0)
        {
            if (a.Mask is null) throw new ArgumentException($"{op}: the geometry reads a mask but none was given");
            CheckSpan(a.Mask, g.MaskOffset, [(g.B, g.MaskStrideB), (g.H, g.MaskStrideH), (g.Nq, g.MaskStrideRow), (g.Nk, g.MaskStrideCol)], op, "mask");
        }
    }

    static void CheckSpan(Tensor t, int offset, (int size, int stride)[] dims, string op, string what)
    {
        long lo = offset, hi = offset;
        foreach (var (size, stride) in dims)
        {
            if (size == 0) return;
            if (stride < 0) throw new ArgumentException($"{op}: negative stride {stride} for the {what}");
            hi += (long)(size - 1) * stride;
        }
        long length = t.Storage.Length / t.DType.Words();
        if (lo < 0 || hi >= length)
            throw new ArgumentException($"{op}: the {what} geometry reaches element {hi} of a storage of {length}");
    }

    public void Attention(in AttentionArgs a, Tensor output, Tensor logSumExp)
    {
        const string n = "scaled_dot_product_attention";
        CheckAttention(a, n);
        var g = a.Geometry;
        if (IsDouble(output))
        {
            RefAttention.Forward(All<double>(a.Q), All<double>(a.K), All<double>(a.V), a.Mask is null ? default : All<double>(a.Mask), g,
                ContigD(output, n), ContigD(logSumExp, n));
            return;
        }
        var o = Contig(output, n); var l = Contig(logSumExp, n);
        fixed (float* pq = Data(a.Q), pk = Data(a.K), pv = Data(a.V), pm = a.Mask is null ? null : Data(a.Mask), po = o, pl = l)
            CpuAttention.Forward(pq, pk, pv, pm, g, po, pl);
    }

    public void AttentionBackward(in AttentionArgs a, Tensor output, Tensor logSumExp, Tensor gradOutput, Tensor gradQ, Tensor gradK, Tensor gradV)
    {
        const string n = "scaled_dot_product_attention_backward";
        CheckAttention(a, n);
        var g = a.Geometry;
        if (IsDouble(output))
        {
            RefAttention.Backward(All<double>(a.Q), All<double>(a.K), All<double>(a.V), a.Mask is null ? default : All<double>(a.Mask), g,
                ContigD(output, n), ContigD(logSumExp, n), ContigD(gradOutput, n), ContigD(gradQ, n), ContigD(gradK, n), ContigD(gradV, n));
            return;
        }
        var o = Contig(output, n); var l = Contig(logSumExp, n); var go = Contig(gradOutput, n);
        var gq = Contig(gradQ, n); var gk = Contig(gradK, n); var gv = Contig(gradV, n);
        fixed (float* pq = Data(a.Q), pk = Data(a.K), pv = Data(a.V), pm = a.Mask is null ? null : Data(a.Mask), po = o, pl = l, pgo = go,
            pgq = gq, pgk = gk, pgv = gv)
            CpuAttention.Backward(pq, pk, pv, pm, g, po, pl, pgo, pgq, pgk, pgv);
    }

    public void AttentionProbs(in AttentionArgs a, Tensor logSumExp, Tensor probs)
    {
        const string n = "scaled_dot_product_attention_probs";
        CheckAttention(a, n);
        var g = a.Geometry;
        if (IsDouble(probs))
        {
            RefAttention.Probs(All<double>(a.Q), All<double>(a.K), a.Mask is null ? default : All<double>(a.Mask), g, ContigD(logSumExp, n), ContigD(probs, n));
            return;
        }
        var l = Contig(logSumExp, n); var p = Contig(probs, n);
        fixed (float* pq = Data(a.Q), pk = Data(a.K), pm = a.Mask is null ? null : Data(a.Mask), pl = l, pp = p)
            CpuAttention.Probs(pq, pk, pm, g, pl, pp);
    }

    public void Dropout(Tensor x, Tensor y, float keep, float scale, ulong seed, ulong stream)
    {
        const string n = "dropout";
        SameShape(x, y, n);
        if (IsDouble(x)) { RefAttention.Dropout(ContigD(x, n), ContigD(y, n), keep, scale, seed, stream); return; }
        CpuDropout.Apply(Contig(x, n), Contig(y, n), keep, scale, seed, stream);
    }
}
