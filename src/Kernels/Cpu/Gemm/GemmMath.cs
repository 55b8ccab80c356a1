using System.Runtime.Intrinsics.X86;

namespace FsrNative.Kernels.Cpu;

/// <summary>
/// The GEMM epilogue's activation: bias add and GELU (erf or tanh form) applied to rows of C. The GELU itself is
/// <see cref="CpuVecMath"/>'s — the same vector code the standalone <c>gelu</c> op runs, tails included (masked loads
/// rather than a scalar loop) — so a fused Linear+GELU gives the same bits as Linear followed by GELU.
/// </summary>
internal static class GemmMath
{
    /// <summary>Applies bias and activation to n contiguous floats in place (used by the unpacked paths and K = 0).</summary>
    public static unsafe void ApplyEpilogueRow(float* c, float* bias, int n, GemmEpilogue ep)
    {
        if (ep == GemmEpilogue.None) return;
        if (!(Avx2.IsSupported && Fma.IsSupported))
        {
            for (int i = 0; i < n; i++)
            {
                float v = c[i] + (bias != null ? bias[i] : 0f);
                c[i] = ep == GemmEpilogue.BiasGeluErf ? ScalarMath.GeluErf(v) : ep == GemmEpilogue.BiasGeluTanh ? ScalarMath.GeluTanh(v) : v;
            }
            return;
        }
        for (int j = 0; j < n; j += 8)
        {
            int count = Math.Min(8, n - j);
            var v = count == 8 ? Avx.LoadVector256(c + j) : CpuVecMath.LoadTail(c + j, count);
            if (bias != null) v = Avx.Add(v, count == 8 ? Avx.LoadVector256(bias + j) : CpuVecMath.LoadTail(bias + j, count));
            if (ep == GemmEpilogue.BiasGeluErf) v = CpuVecMath.GeluErf(v);
            else if (ep == GemmEpilogue.BiasGeluTanh) v = CpuVecMath.GeluTanh(v);
            if (count == 8) Avx.Store(c + j, v);
            else CpuVecMath.StoreTail(c + j, v, count);
        }
    }
}
