namespace FsrNative;

/// <summary>Which kernels the CUDA backend runs for the ops that have a hand-written PTX kernel (GEMM, attention forward).</summary>
public enum GpuKernelMode
{
    /// <summary>The PTX kernel on architectures listed in <see cref="GpuKernels.ValidatedArchitectures"/>, else the ILGPU
    /// kernel. While that list is empty (no GPU run has validated the PTX kernels yet) this is the ILGPU kernel everywhere.</summary>
    Auto,
    /// <summary>The PTX kernel wherever it covers the call (shapes, precision: see docs/gpu.md), on any CUDA architecture;
    /// on a device that is not CUDA (the ILGPU CPU accelerator) the op fails, naming itself.</summary>
    Ptx,
    /// <summary>Always the ILGPU kernel.</summary>
    Ilgpu,
}

/// <summary>
/// Engine-wide switches of the hand-written PTX kernels (kernels-ptx/, loaded by <see cref="PtxModule"/>):
/// <list type="bullet">
/// <item><see cref="Mode"/>: <c>auto</c> | <c>ptx</c> | <c>ilgpu</c>; initially from the environment variable
/// <c>FSR_GPU_KERNELS</c> (default <c>auto</c>).</item>
/// <item><see cref="AllowTf32"/>: lets fp32 matmuls run on TF32 tensor cores (10-bit mantissa inputs, fp32 accumulation),
/// like <c>torch.backends.cuda.matmul.allow_tf32</c>; default off (initially from <c>FSR_ALLOW_TF32=1</c>), so the
/// default fp32 matmul stays exact fp32 (the ILGPU kernel).</item>
/// </list>
/// Both have a scoped override for the current async flow (<see cref="Use(GpuKernelMode?, bool?)"/>), which is what tests use
/// so that parallel tests do not see each other's settings.
/// </summary>
public static class GpuKernels
{
    /// <summary>The architectures the PTX kernels have been validated on (the Cuda-category PTX checks passed on a real
    /// GPU of that architecture): <c>auto</c> uses them only there. Empty: no GPU run has validated them yet.</summary>
    public static IReadOnlyList<string> ValidatedArchitectures { get; } = [];

    static GpuKernelMode _mode = ParseMode(Environment.GetEnvironmentVariable("FSR_GPU_KERNELS"), "FSR_GPU_KERNELS");
    static bool _allowTf32 = Environment.GetEnvironmentVariable("FSR_ALLOW_TF32") is "1" or "true" or "True";
    static readonly AsyncLocal<GpuKernelMode?> ModeOverride = new();
    static readonly AsyncLocal<bool?> Tf32Override = new();

    /// <summary>The kernel choice (the scoped override if one is active, else the process-wide value).</summary>
    public static GpuKernelMode Mode
    {
        get => ModeOverride.Value ?? _mode;
        set => _mode = value;
    }

    /// <summary>Whether fp32 matmuls may use TF32 tensor cores (the scoped override if active, else the process-wide value).</summary>
    public static bool AllowTf32
    {
        get => Tf32Override.Value ?? _allowTf32;
        set => _allowTf32 = value;
    }

    /// <summary>Overrides <see cref="Mode"/> and/or <see cref="AllowTf32"/> for the current async flow until disposed.</summary>
    public static IDisposable Use(GpuKernelMode? mode = null, bool? allowTf32 = null)
    {
        var scope = new Scope(ModeOverride.Value, Tf32Override.Value);
        if (mode is not null) ModeOverride.Value = mode;
        if (allowTf32 is not null) Tf32Override.Value = allowTf32;
        return scope;
    }

    sealed class Scope(GpuKernelMode? mode, bool? tf32) : IDisposable
    {
        public void Dispose()
        {
            ModeOverride.Value = mode;
            Tf32Override.Value = tf32;
        }
    }

    /// <summary>Parses <c>auto</c>, <c>ptx</c>, <c>ilgpu</c> (case-insensitive; null or empty is <c>auto</c>).</summary>
    public static GpuKernelMode ParseMode(string? value, string what = "GPU kernel mode") => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => GpuKernelMode.Auto,
        "ptx" => GpuKernelMode.Ptx,
        "ilgpu" => GpuKernelMode.Ilgpu,
        _ => throw new ArgumentException($"{what}: expected auto, ptx or ilgpu, got '{value}'"),
    };

    static long _gemmTf32, _gemmBf16, _attention;

    /// <summary>How many times each PTX kernel was launched in this process (tests and the GPU runner check that the
    /// PTX kernel, not the fallback, ran).</summary>
    public static (long GemmTf32, long GemmBf16, long AttentionForward) Launches
        => (Interlocked.Read(ref _gemmTf32), Interlocked.Read(ref _gemmBf16), Interlocked.Read(ref _attention));

    internal static void CountGemmTf32() => Interlocked.Increment(ref _gemmTf32);
    internal static void CountGemmBf16() => Interlocked.Increment(ref _gemmBf16);
    internal static void CountAttention() => Interlocked.Increment(ref _attention);
}
