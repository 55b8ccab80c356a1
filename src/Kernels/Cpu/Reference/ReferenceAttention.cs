using System.Numerics;

namespace FsrNative.Kernels.Cpu.Reference;

/// <summary>
/// Scaled-dot-product attention and dropout, written out one row at a time in T (the definition the SIMD and GPU
/// kernels are tested against, and the Float64 path used by the gradient checks). Shapes and mask/dropout
/// conventions: <see cref="AttentionGeometry"/>. The buffers are whole storages (the geometry carries the offsets);
/// outputs are contiguous: o (B, H, Nq, Dv), lse (B, H, Nq), probs (B, H, Nq, Nk), dq/dk/dv like q/k/v.
/// <code>
/// s_ij = scale·(q_i·k_j) + mask_ij            m_i = max_j s_ij        lse_i = m_i + log Σ_j exp(s_ij − m_i)
/// P_ij = exp(s_ij − lse_i)                     o_i = Σ_j P_ij·z_ij·v_j   (z = dropout factor, 1 without dropout)
/// backward:  D_i = dO_i·o_i    dP_ij = z_ij·(dO_i·v_j)    dS_ij = P_ij·(dP_ij − D_i)
///            dq_i = scale·Σ_j dS_ij·k_j    dk_j = scale·Σ_i dS_ij·q_i    dv_j = Σ_i P_ij·z_ij·dO_i
/// </code>
/// A row with every s_ij = −∞ has P = 0, o = 0, lse = −∞ and contributes nothing to any gradient.
/// </summary>
public static class ReferenceAttention<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static T C(float v) => T.CreateChecked(v);

    /// <summary>The scores s_i· of one query row into <paramref name="s"/> (length Nk); returns their maximum.</summary>
    static T Scores(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> mask, in AttentionGeometry g, int b, int h, int i, Span<T> s)
    {
        T scale = C(g.Scale), max = T.NegativeInfinity;
        int qi = g.QRow(b, h, i);
        for (int j = 0; j < g.Nk; j++)
        {
            int kj = g.KRow(b, h, j);
            T dot = T.Zero;
            for (int c = 0; c < g.D; c++) dot += q[qi + c] * k[kj + c];
            T v = scale * dot;
            if (g.HasMask != 0) v += mask[g.MaskRow(b, h, i) + j * g.MaskStrideCol];
            s[j] = v;
            if (v > max) max = v;
        }
        return max;
    }

    public static void Forward(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, ReadOnlySpan<T> mask, in AttentionGeometry g,
        Span<T> o, Span<T> lse)
    {
        var s = new T[g.Nk];
        for (int b = 0; b < g.B; b++)
            for (int h = 0; h < g.H; h++)
                for (int i = 0; i < g.Nq; i++)
                {
                    int bh = b * g.H + h;
                    int row = bh * g.Nq + i;
                    var orow = o.Slice(row * g.Dv, g.Dv);
                    orow.Clear();
                    T m = Scores(q, k, mask, g, b, h, i, s);
                    if (T.IsNegativeInfinity(m)) { lse[row] = T.NegativeInfinity; continue; }
                    T l = T.Zero;
                    for (int j = 0; j < g.Nk; j++) { s[j] = T.Exp(s[j] - m); l += s[j]; }
                    lse[row] = m + T.Log(l);
                    for (int j = 0; j < g.Nk; j++)
                    {
                        T p = s[j] / l * C(g.DropFactor(bh, i, j));
                        int vj = g.VRow(b, h, j);
                        for (int c = 0; c < g.Dv; c++) orow[c] += p * v[vj + c];
                    }
                }
    }

    /// <summary>P_ij = exp(s_ij − lse_i) before dropout (0 on fully masked rows), into contiguous (B, H, Nq, Nk).</summary>
    public static void Probs(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> mask, in AttentionGeometry g, ReadOnlySpan<T> lse, Span<T> probs)
    {
        var s = new T[g.Nk];
        for (int b = 0; b < g.B; b++)
            for (int h = 0; h < g.H; h++)
                for (int i = 0; i < g.Nq; i++)
                {
                    int row = (b * g.H + h) * g.Nq + i;
                    Scores(q, k, mask, g, b, h, i, s);
                    T m = lse[row];
                    for (int j = 0; j < g.Nk; j++)
                        probs[row * g.Nk + j] = T.IsNegativeInfinity(m) ? T.Zero : T.Exp(s[j] - m);
                }
    }

    public static void Backward(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, ReadOnlySpan<T> mask, in AttentionGeometry g,
        ReadOnlySpan<T> o, ReadOnlySpan<T> lse, ReadOnlySpan<T> dO, Span<T> dq, Span<T> dk, Span<T> dv)
    {
        dq.Clear(); dk.Clear(); dv.Clear();
        var s = new T[g.Nk];
        T scale = C(g.Scale);
        for (int b = 0; b < g.B; b++)
            for (int h = 0; h < g.H; h++)
            {
                int bh = b * g.H + h;
                for (int i = 0; i < g.Nq; i++)
                {
                    int row = bh * g.Nq + i;
                    T m = lse[row];
                    if (T.IsNegativeInfinity(m)) continue;
                    Scores(q, k, mask, g, b, h, i, s);
                    var dOi = dO.Slice(row * g.Dv, g.Dv);
                    T d = T.Zero;
                    for (int c = 0; c < g.Dv; c++) d += dOi[c] * o[row * g.Dv + c];
                    int qi = g.QRow(b, h, i);
                    for (int j = 0; j < g.Nk; j++)
                    {
                        T p = T.Exp(s[j] - m);
                        T z = C(g.DropFactor(bh, i, j));
                        int vj = g.VRow(b, h, j), kj = g.KRow(b, h, j);
                        T dp = T.Zero;
                        for (int c = 0; c < g.Dv; c++) dp += dOi[c] * v[vj + c];
                        T ds = p * (z * dp - d) * scale;
                        int dvj = (bh * g.Nk + j) * g.Dv, dkj = (bh * g.Nk + j) * g.D, dqi = row * g.D;
                        for (int c = 0; c < g.Dv; c++) dv[dvj + c] += p * z * dOi[c];
                        for (int c = 0; c < g.D; c++)
                        {
                            dq[dqi + c] += ds * k[kj + c];
                            dk[dkj + c] += ds * q[qi + c];
                        }
                    }
                }
            }
    }

    /// <summary>y_i = x_i·(U(seed, stream, i) &lt; keep ? scale : 0) over contiguous x and y.</summary>
    public static void Dropout(ReadOnlySpan<T> x, Span<T> y, float keep, float scale, ulong seed, ulong stream)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = x[i] * C(Random.Philox.Uniform(seed, stream, i) < keep ? scale : 0f);
    }
}
