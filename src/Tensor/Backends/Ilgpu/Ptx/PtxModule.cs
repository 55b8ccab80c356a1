using System.Reflection;

namespace FsrNative;

/// <summary>
/// One kernels-ptx/*.ptx file loaded into the current CUDA context (the caller has bound ILGPU's accelerator), with its
/// entry functions looked up once. The PTX text is embedded in this assembly (resource <c>FsrNative.kernels_ptx.&lt;file&gt;</c>,
/// see FsrNative.Tensor.csproj), the same bytes the Ptx tests assemble with ptxas; the driver JIT-compiles it for the GPU
/// at load (a failure throws <see cref="CudaDriverException"/> with the JIT's error log).
/// </summary>
public sealed class PtxModule
{
    readonly CudaDriver _driver;
    readonly Dictionary<string, IntPtr> _functions = [];

    /// <summary>The file, e.g. <c>gemm_tf32_mma.ptx</c>.</summary>
    public string File { get; }
    /// <summary>What the JIT said at load (with verbose logging: registers and shared memory per entry).</summary>
    public string JitInfoLog { get; }
    internal IntPtr Handle { get; }

    PtxModule(CudaDriver driver, string file, IntPtr handle, string infoLog)
    {
        _driver = driver; File = file; Handle = handle; JitInfoLog = infoLog;
    }

    /// <summary>The embedded kernels-ptx files.</summary>
    public static IReadOnlyList<string> EmbeddedFiles { get; } = typeof(PtxModule).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)).Select(n => n[ResourcePrefix.Length..]).Order(StringComparer.Ordinal).ToArray();

    const string ResourcePrefix = "FsrNative.kernels_ptx.";

    /// <summary>The PTX text of an embedded kernels-ptx file.</summary>
    public static string Text(string file)
    {
        using var s = typeof(PtxModule).Assembly.GetManifestResourceStream(ResourcePrefix + file)
            ?? throw new InvalidOperationException($"PTX kernels: kernels-ptx/{file} is not embedded in {typeof(PtxModule).Assembly.GetName().Name} " +
                $"(embedded: {string.Join(", ", EmbeddedFiles)})");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }

    /// <summary>Loads an embedded file into the current context through <paramref name="driver"/>.</summary>
    internal static PtxModule Load(CudaDriver driver, string file)
    {
        var (handle, log) = driver.LoadModule(Text(file), $"kernels-ptx/{file}");
        return new PtxModule(driver, file, handle, log);
    }

    /// <summary>The entry function <paramref name="name"/> (looked up once).</summary>
    internal IntPtr Function(string name)
    {
        lock (_functions)
        {
            if (!_functions.TryGetValue(name, out var f)) _functions[name] = f = _driver.GetFunction(Handle, name, File);
            return f;
        }
    }

    /// <summary>Launches entry <paramref name="name"/> on <paramref name="stream"/> (queued; no synchronisation).
    /// <paramref name="args"/>: one pointer per kernel parameter, to its value, in declaration order.</summary>
    internal unsafe void Launch(string name, (uint X, uint Y, uint Z) grid, (uint X, uint Y, uint Z) block, uint sharedBytes, IntPtr stream, void** args)
        => _driver.Launch(Function(name), $"{name} (kernels-ptx/{File})", grid, block, sharedBytes, stream, args);
}
