using FsrNative.Kernels;
using ILGPU.Runtime.Cuda;

namespace FsrNative;

/// <summary>
/// The hand-written PTX kernels (kernels-ptx/) on the CUDA backend: which calls they take over and how they are launched.
/// <para>Selection (<see cref="PtxSelected"/>): <see cref="GpuKernels.Mode"/> <c>ilgpu</c> → never; <c>auto</c> → only on
/// an architecture in <see cref="GpuKernels.ValidatedArchitectures"/> (empty until a GPU run validates them, so the ILGPU
/// kernels run); <c>ptx</c> → on any CUDA device, and an error naming the op on a device that is not CUDA. Then each op
/// takes the PTX path only for the calls its kernel covers:</para>
/// <list type="bullet">
/// <item>matmul (fp32 in and out): <c>gemm_tf32_mma.ptx</c> when <see cref="GpuKernels.AllowTf32"/> (else the exact-fp32
/// ILGPU kernel); batch dimensions that coalesce to at most one (strides may be 0), at most 65,535 batches and
/// ⌈M/64⌉ ≤ 65,535, 32·max(lda, ldb) &lt; 2³¹.</item>
/// <item>the BF16 GEMM <c>gemm_bf16_mma.ptx</c>: only through <see cref="PtxGemm.TryBf16"/> (the mixed-precision path).</item>
/// <item>attention forward: <c>attention_fwd.ptx</c> for D = Dv = 64, no mask, no dropout, Nk ≥ 1; any B, H, Nq and
/// strides (last dimension contiguous, as <see cref="AttentionGeometry"/> requires). It writes the same output and
/// log-sum-exp as the ILGPU forward, so the ILGPU backward uses them unchanged.</item>
/// </list>
/// Launches go on ILGPU's default stream of this accelerator (no synchronisation); device pointers are the ILGPU
/// buffers' <c>NativePtr</c> plus the tensor offsets.
/// </summary>
public sealed partial class IlgpuBackend
{
    PtxModule? _ptxGemmTf32, _ptxGemmBf16, _ptxAttention;

    /// <summary>The CUDA architecture as <c>sm_XY</c>, or null on a device that is not CUDA.</summary>
    internal string? CudaArchitecture
        => _acc is CudaAccelerator c ? $"sm_{c.Architecture.Major}{c.Architecture.Minor}" : null;

    /// <summary>Whether the PTX kernel of <paramref name="op"/> is selected on this device (see the class comment).</summary>
    /// <exception cref="InvalidOperationException"><c>ptx</c> is forced and this device is not CUDA.</exception>
    internal bool PtxSelected(string op)
    {
        var mode = GpuKernels.Mode;
        if (mode == GpuKernelMode.Ilgpu) return false;
        string? arch = CudaArchitecture;
        if (mode == GpuKernelMode.Ptx)
        {
            if (arch is null)
                throw new InvalidOperationException($"{op}: the hand-written PTX kernels are forced (FSR_GPU_KERNELS=ptx / " +
                    $"GpuKernels.Mode = Ptx) but {Device} ({_acc.AcceleratorType} accelerator) is not a CUDA device; use auto or ilgpu here");
            return true;
        }
        return arch is not null && GpuKernels.ValidatedArchitectures.Contains(arch);
    }

    PtxModule PtxLoad(ref PtxModule? slot, string file)
        => slot ??= PtxModule.Load(CudaDriver.Shared, file);   // the caller holds _gate and has bound the accelerator

    IntPtr PtxStream => ((CudaStream)_acc.DefaultStream).StreamPtr;

    IntPtr DevicePtr(Tensor t, string op) => StorageOf(t, op).Buffer.NativePtr + (nint)t.Offset * sizeof(float);

    /// <summary>Why the PTX GEMM cannot take this call (null when it can); also computes the single batch dimension.</summary>
    static string? GemmUncovered(in MatmulArgs p, out int batch, out long strideA, out long strideB)
    {
        batch = p.BatchCount; strideA = 0; strideB = 0;
        if (p.BatchShape.Length > 0)
        {
            var (bs, bstr) = Shape.Coalesce(p.BatchShape, p.BatchStridesA, p.BatchStridesB);
            if (bs.Length > 1) return $"batch dimensions {Shape.Format(p.BatchShape)} do not coalesce to one";
            if (bs.Length == 1) { strideA = bstr[0][0]; strideB = bstr[1][0]; }
        }
        if (batch > 65535) return $"{batch} batches exceed the grid's z limit";
        if ((p.M + 63) / 64 > 65535) return $"M = {p.M} exceeds the grid's y limit";
        if (32L * Math.Max(p.Lda, p.Ldb) >= int.MaxValue) return "the leading dimensions exceed the kernel's 32-bit steps";
        return null;
    }

    /// <summary>The matmul hook: runs <paramref name="p"/> on the TF32 PTX GEMM when it is selected, TF32 is allowed and
    /// the call is covered; returns false to let the ILGPU kernel run. Called under <c>_gate</c> after binding.</summary>
    bool TryPtxMatmul(in MatmulArgs p, string op)
    {
        if (!PtxSelected(op) || !GpuKernels.AllowTf32) return false;
        if (GemmUncovered(p, out _, out _, out _) is not null) return false;
        LaunchGemm(ref _ptxGemmTf32, "gemm_tf32_mma.ptx", "fsr_gemm_tf32", p, op);
        GpuKernels.CountGemmTf32();
        return true;
    }

    /// <summary>The BF16 GEMM (see <see cref="PtxGemm.TryBf16"/>).</summary>
    internal bool TryPtxGemmBf16(in MatmulArgs p)
    {
        const string op = "matmul (bf16)";
        if (!PtxSelected(op)) return false;
        if (GemmUncovered(p, out _, out _, out _) is not null) return false;
        if (p.Beta != 0f && p.Beta != 1f) throw new ArgumentException($"{op}: beta must be 0 or 1, got {p.Beta}");
        CheckCount(p.C, (long)p.BatchCount * p.M * p.N, op, "C");
        lock (_gate)
        {
            _acc.Bind();
            _ = Contig(p.C, op);
            if (p.BatchCount == 0 || p.M == 0 || p.N == 0) return true;
            LaunchGemm(ref _ptxGemmBf16, "gemm_bf16_mma.ptx", "fsr_gemm_bf16", p, op);
        }
        GpuKernels.CountGemmBf16();
        return true;
    }

    unsafe void LaunchGemm(ref PtxModule? slot, string file, string entry, in MatmulArgs p, string op)
    {
        GemmUncovered(p, out int batch, out long strideA, out long strideB);
        var module = PtxLoad(ref slot, file);
        long a = DevicePtr(p.A, op), b = DevicePtr(p.B, op), c = DevicePtr(p.C, op);
        int m = p.M, n = p.N, k = p.K, lda = p.Lda, ldb = p.Ldb, ta = p.TransA ? 1 : 0, tb = p.TransB ? 1 : 0;
        float alpha = p.Alpha, beta = p.Beta;
        long strideC = (long)p.M * p.N;
        void** args = stackalloc void*[15];
        args[0] = &a; args[1] = &b; args[2] = &c; args[3] = &m; args[4] = &n; args[5] = &k; args[6] = &lda; args[7] = &ldb;
        args[8] = &ta; args[9] = &tb; args[10] = &alpha; args[11] = &beta; args[12] = &strideA; args[13] = &strideB; args[14] = &strideC;
        module.Launch(entry, ((uint)((n + 63) / 64), (uint)((m + 63) / 64), (uint)batch), (128u, 1u, 1u), 0, PtxStream, args);
    }

    /// <summary>Why the PTX attention forward cannot take this call (null when it can).</summary>
    internal static string? AttentionUncovered(in AttentionGeometry g)
    {
        if (g.D != 64 || g.Dv != 64) return $"head dimensions D = {g.D}, Dv = {g.Dv} (the kernel has D = Dv = 64)";
        if (g.HasMask != 0) return "an attention mask";
        if (g.KeepProb < 1f) return "dropout";
        if (g.Nk < 1) return "no keys";
        if ((long)g.B * g.H > 65535) return $"B·H = {(long)g.B * g.H} exceeds the grid's y limit";
        return null;
    }

    /// <summary>The attention-forward hook (called under <c>_gate</c> after binding, with rows &gt; 0).</summary>
    unsafe bool TryPtxAttention(in AttentionArgs a, Tensor output, Tensor logSumExp, string op)
    {
        if (!PtxSelected(op)) return false;
        var g = a.Geometry;
        if (AttentionUncovered(g) is not null) return false;
        var module = PtxLoad(ref _ptxAttention, "attention_fwd.ptx");
        long q = StorageOf(a.Q, op).Buffer.NativePtr + (nint)g.QOffset * sizeof(float);
        long k = StorageOf(a.K, op).Buffer.NativePtr + (nint)g.KOffset * sizeof(float);
        long v = StorageOf(a.V, op).Buffer.NativePtr + (nint)g.VOffset * sizeof(float);
        long o = DevicePtr(output, op), l = DevicePtr(logSumExp, op);
        int h = g.H, nq = g.Nq, nk = g.Nk;
        int qb = g.QStrideB, qh = g.QStrideH, qr = g.QStrideRow, kb = g.KStrideB, kh = g.KStrideH, kr = g.KStrideRow;
        int vb = g.VStrideB, vh = g.VStrideH, vr = g.VStrideRow;
        float scale = g.Scale;
        void** args = stackalloc void*[18];
        args[0] = &q; args[1] = &k; args[2] = &v; args[3] = &o; args[4] = &l; args[5] = &h; args[6] = &nq; args[7] = &nk;
        args[8] = &qb; args[9] = &qh; args[10] = &qr; args[11] = &kb; args[12] = &kh; args[13] = &kr;
        args[14] = &vb; args[15] = &vh; args[16] = &vr; args[17] = &scale;
        module.Launch("fsr_attention_fwd_d64", ((uint)((nq + 63) / 64), (uint)(g.B * g.H), 1u), (128u, 1u, 1u), 0, PtxStream, args);
        GpuKernels.CountAttention();
        return true;
    }
}

/// <summary>Entry points of the PTX GEMMs for callers outside the backend (the mixed-precision matmul).</summary>
public static class PtxGemm
{
    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C (the <see cref="MatmulArgs"/> contract: fp32 tensors, C contiguous, beta 0 or 1) with
    /// A and B rounded to bf16 (round to nearest even) as they are loaded and the products accumulated in fp32 on
    /// tensor cores (kernels-ptx/gemm_bf16_mma.ptx). Returns false, doing nothing, when the tensors are not on a CUDA
    /// backend whose PTX kernels are selected (<see cref="GpuKernels.Mode"/>) or the call is not covered (batch
    /// dimensions that do not coalesce to one, grid limits): the caller then runs its own bf16 path.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="GpuKernelMode.Ptx"/> is forced and the tensors are on an
    /// ILGPU device that is not CUDA.</exception>
    public static bool TryBf16(in MatmulArgs args)
        => args.C.Backend is IlgpuBackend b && b.TryPtxGemmBf16(args);
}
