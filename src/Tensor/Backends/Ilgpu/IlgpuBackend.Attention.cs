using FsrNative.Kernels;
using FsrNative.Kernels.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace FsrNative;

/// <summary>Attention and dropout on ILGPU (kernels: src/Kernels/Gpu/AttentionKernels.cs, DropoutKernels.cs).</summary>
public sealed partial class IlgpuBackend
{
    internal enum AttentionKernel { Tiled, Naive }

    /// <summary>Which attention kernels run. GPU: the tiled flash-attention kernels (the naive ones for D or Dv above
    /// <see cref="AttentionKernels.MaxTiledDim"/>). Emulator: the naive ones, for the reason given at
    /// <see cref="GemmChoice"/> (the tiled kernels use 256-thread groups); the parity tests check the tiled kernels on an
    /// isolated emulator (<see cref="CreateIsolatedEmulator"/>).</summary>
    internal AttentionKernel AttentionChoice { get => _attentionChoice ?? (IsEmulator ? AttentionKernel.Naive : AttentionKernel.Tiled); set => _attentionChoice = value; }
    AttentionKernel? _attentionChoice;

    bool UseTiled(in AttentionGeometry g)
        => AttentionChoice == AttentionKernel.Tiled && g.D <= AttentionKernels.MaxTiledDim && g.Dv <= AttentionKernels.MaxTiledDim;

    static bool Wide(in AttentionGeometry g) => g.D > 64 || g.Dv > 64;

    static int TiledGroups(int bh, int n, string op)
    {
        long groups = (long)bh * GpuMath.DivUp(n, AttentionKernels.Tile);
        if (groups > int.MaxValue) throw new NotSupportedException($"{op}: {groups} tiles exceed one launch");
        return (int)groups;
    }

    /// <summary>The operand views and the checked geometry of an attention call.</summary>
    (ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask) Operands(in AttentionArgs a, string op)
    {
        var g = a.Geometry;
        long rows = (long)g.B * g.H * Math.Max(g.Nq, g.Nk);
        if (rows * Math.Max(Math.Max(g.D, g.Dv), Math.Max(g.Nq, g.Nk)) > int.MaxValue)
            throw new NotSupportedException($"{op}: B·H·N·max(D, N) exceeds the 32-bit indexing of the kernels");
        if (g.HasMask != 0 && a.Mask is null) throw new ArgumentException($"{op}: the geometry reads a mask but none was given");
        return (Whole(a.Q, op), Whole(a.K, op), Whole(a.V, op), a.Mask is null ? Placeholder : Whole(a.Mask, op));
    }

    public void Attention(in AttentionArgs a, Tensor output, Tensor logSumExp)
    {
        const string name = "scaled_dot_product_attention";
        var g = a.Geometry;
        int heads = g.B * g.H;
        CheckCount(output, (long)heads * g.Nq * g.Dv, name, "output");
        CheckCount(logSumExp, (long)heads * g.Nq, name, "log-sum-exp");
        lock (_gate)
        {
            _acc.Bind();
            var (q, k, v, m) = Operands(a, name);
            var o = Contig(output, name); var l = Contig(logSumExp, name);
            int rows = heads * g.Nq;
            if (rows == 0) return;
            if (TryPtxAttention(a, output, logSumExp, name)) return;   // the PTX forward when selected (IlgpuBackend.Ptx.cs)
            if (UseTiled(g))
            {
                var config = new KernelConfig(TiledGroups(heads, g.Nq, name), AttentionKernels.Threads);
                if (Wide(g)) _k.AttentionForwardTiled128(config, q, k, v, m, o, l, g);
                else _k.AttentionForwardTiled64(config, q, k, v, m, o, l, g);
            }
            else _k.AttentionForwardNaive(Grid(rows), rows, Grid(rows), q, k, v, m, o, l, g);
        }
    }

    public void AttentionBackward(in AttentionArgs a, Tensor output, Tensor logSumExp, Tensor gradOutput, Tensor gradQ, Tensor gradK, Tensor gradV)
    {
        const string name = "scaled_dot_product_attention_backward";
        var g = a.Geometry;
        int heads = g.B * g.H;
        CheckCount(output, (long)heads * g.Nq * g.Dv, name, "output");
        CheckCount(gradOutput, (long)heads * g.Nq * g.Dv, name, "output gradient");
        CheckCount(logSumExp, (long)heads * g.Nq, name, "log-sum-exp");
        CheckCount(gradQ, (long)heads * g.Nq * g.D, name, "query gradient");
        CheckCount(gradK, (long)heads * g.Nk * g.D, name, "key gradient");
        CheckCount(gradV, (long)heads * g.Nk * g.Dv, name, "value gradient");
        lock (_gate)
        {
            _acc.Bind();
            var (q, k, v, m) = Operands(a, name);
            var o = Contig(output, name); var l = Contig(logSumExp, name); var dO = Contig(gradOutput, name);
            var dq = Contig(gradQ, name); var dk = Contig(gradK, name); var dv = Contig(gradV, name);
            int rows = heads * g.Nq, keyRows = heads * g.Nk;
            if (heads == 0) return;
            // delta_i = dO_i·o_i, in a pooled scratch buffer; returned to the pool at the end, which is safe without a sync
            // because all later users of the buffer queue their work on the same stream (as for disposed tensors).
            var deltaBuffer = _allocator.Rent(Math.Max(rows, 1));
            ArrayView<float> delta = deltaBuffer.View;
            try
            {
                if (rows > 0) _k.AttentionBackwardDelta(Grid(rows), rows, Grid(rows), o, dO, delta, g.Dv);
                if (UseTiled(g))
                {
                    bool wide = Wide(g);
                    if (g.Nk > 0)
                    {
                        var kv = new KernelConfig(TiledGroups(heads, g.Nk, name), AttentionKernels.Threads);
                        if (wide) _k.AttentionBackwardKV128(kv, q, k, v, m, l, dO, delta, dk, dv, g);
                        else _k.AttentionBackwardKV64(kv, q, k, v, m, l, dO, delta, dk, dv, g);
                    }
                    if (rows > 0)
                    {
                        var qc = new KernelConfig(TiledGroups(heads, g.Nq, name), AttentionKernels.Threads);
                        if (wide) _k.AttentionBackwardQ128(qc, q, k, v, m, l, dO, delta, dq, g);
                        else _k.AttentionBackwardQ64(qc, q, k, v, m, l, dO, delta, dq, g);
                    }
                }
                else
                {
                    if (keyRows > 0) _k.AttentionBackwardNaiveKV(Grid(keyRows), keyRows, Grid(keyRows), q, k, v, m, l, dO, delta, dk, dv, g);
                    if (rows > 0) _k.AttentionBackwardNaiveQ(Grid(rows), rows, Grid(rows), q, k, v, m, l, dO, delta, dq, g);
                }
            }
            finally
            {
                _allocator.Return(deltaBuffer);
            }
        }
    }

    public void AttentionProbs(in AttentionArgs a, Tensor logSumExp, Tensor probs)
    {
        const string name = "scaled_dot_product_attention_probs";
        var g = a.Geometry;
        long n = (long)g.B * g.H * g.Nq * g.Nk;
        CheckCount(probs, n, name, "probabilities");
        CheckCount(logSumExp, (long)g.B * g.H * g.Nq, name, "log-sum-exp");
        if (n > int.MaxValue) throw new NotSupportedException($"{name}: {n} probabilities exceed one launch");
        lock (_gate)
        {
            _acc.Bind();
            var (q, k, _, m) = Operands(a, name);
            var l = Contig(logSumExp, name); var p = Contig(probs, name);
            if (n == 0) return;
            _k.AttentionProbs(Grid((int)n), (int)n, Grid((int)n), q, k, m, l, p, g);
        }
    }

    public void Dropout(Tensor x, Tensor y, float keep, float scale, ulong seed, ulong stream)
    {
        const string name = "dropout";
        SameShape(x, y, name);
        lock (_gate)
        {
            _acc.Bind();
            var xv = Contig(x, name); var yv = Contig(y, name);
            int n = x.NumEl;
            if (n == 0) return;
            _k.Dropout(Grid(n), n, Grid(n), xv, yv, keep, scale, seed, stream);
        }
    }
}
