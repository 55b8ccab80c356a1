namespace FsrNative.Tests.Infrastructure;

// Inside FsrNative.*, the names torch and Tensor mean the engine's; these aliases make them TorchSharp's in this file.
using TorchSharp;
using static TorchSharp.torch;
using torch = TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

/// <summary>
/// libtorch (TorchSharp) as the oracle, engine-agnostic: flat float arrays plus shapes in, flat arrays out.
/// Engine-specific glue (our Tensor ↔ float[]) lives elsewhere and builds on these.
/// Shapes are row-major (C-contiguous) as in PyTorch; results are copied out contiguous.
/// </summary>
public static class Torch
{
    private static readonly object InitLock = new();
    private static bool _initialized;

    /// <summary>
    /// Loads libtorch once and fixes its global state for reproducible oracles: default dtype float32,
    /// a fixed manual seed. (TorchSharp 0.107 marks use_deterministic_algorithms "not implemented"; CPU kernels of libtorch are deterministic for the ops we compare.)
    /// Called by every helper here; call it first in a test that uses TorchSharp directly.
    /// </summary>
    public static void EnsureInitialized()
    {
        lock (InitLock)
        {
            if (_initialized) return;
            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception ex)
            {
                // TorchSharp's own message blames a missing libtorch package reference whatever went wrong;
                // loading the library directly gives the dynamic loader's real reason (e.g. a missing GLIBCXX version).
                throw new InvalidOperationException(
                    "libtorch failed to load through TorchSharp. On Debian 12 the copied libLibTorchSharp.so must be " +
                    "patched by build/TorchSharpNativeFix.targets (it marks GLIBCXX_3.4.32 weak); check the build log " +
                    "for 'TorchSharpNativeFix' and that the test project imports that file. " + DirectLoadDiagnosis() +
                    " TorchSharp said: " + ex.Message, ex);
            }
            torch.manual_seed(0);
            torch.set_default_dtype(ScalarType.Float32);
            _initialized = true;
        }
    }

    /// <summary>A float32 CPU tensor holding a copy of <paramref name="data"/> with the given shape.</summary>
    public static Tensor FromArray(float[] data, params long[] shape)
    {
        EnsureInitialized();
        CheckNumel(data.Length, shape);
        return torch.tensor(data, shape, ScalarType.Float32);
    }

    /// <summary>A float64 CPU tensor holding a copy of <paramref name="data"/> with the given shape.</summary>
    public static Tensor FromArray(double[] data, params long[] shape)
    {
        EnsureInitialized();
        CheckNumel(data.Length, shape);
        return torch.tensor(data, shape, ScalarType.Float64);
    }

    /// <summary>A float32 tensor that requires grad (a leaf for backward checks).</summary>
    public static Tensor Leaf(float[] data, params long[] shape)
    {
        var t = FromArray(data, shape);
        t.requires_grad_(true);
        return t;
    }

    /// <summary>The elements of <paramref name="t"/> in row-major order as float32 (views are made contiguous first).</summary>
    public static float[] ToArray(Tensor t)
    {
        EnsureInitialized();
        using var c = t.detach().to_type(ScalarType.Float32).contiguous().cpu();
        return c.data<float>().ToArray();
    }

    /// <summary>The elements of <paramref name="t"/> in row-major order as float64.</summary>
    public static double[] ToDoubleArray(Tensor t)
    {
        EnsureInitialized();
        using var c = t.detach().to_type(ScalarType.Float64).contiguous().cpu();
        return c.data<double>().ToArray();
    }

    /// <summary>The shape of <paramref name="t"/> as int[] (for <see cref="Close.AssertClose(ReadOnlySpan{float}, ReadOnlySpan{float}, Tolerance, string, ReadOnlySpan{int}, bool)"/>).</summary>
    public static int[] Shape(Tensor t) => t.shape.Select(d => checked((int)d)).ToArray();

    private static string DirectLoadDiagnosis()
    {
        string lib = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!OperatingSystem.IsLinux()) return "";
        if (!File.Exists(lib)) return $"{lib} does not exist.";
        try
        {
            System.Runtime.InteropServices.NativeLibrary.Free(System.Runtime.InteropServices.NativeLibrary.Load(lib));
            return $"{lib} itself loads, so the failure lies elsewhere (libtorch?).";
        }
        catch (Exception ex)
        {
            return $"Loading {lib} directly fails: {ex.Message}";
        }
    }

    private static void CheckNumel(int length, long[] shape)
    {
        long n = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"Torch.FromArray: negative dimension in shape [{string.Join(", ", shape)}].");
            n *= d;
        }
        if (n != length)
            throw new ArgumentException($"Torch.FromArray: shape [{string.Join(", ", shape)}] has {n} elements but the array has {length}.");
    }
}
