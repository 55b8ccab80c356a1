using System.Text.Json;
using FsrNative.Weights;
using Xunit;

namespace FsrNative.Tests.Golden;

/// <summary>
/// The golden file made by the authors' PyTorch code (../shared/golden/README.md): FSR tensors of a tiny
/// configuration, the oracle for the FSR model, its losses, gradients and training steps. Its path comes from the
/// environment variable <c>FSR_GOLDEN</c> when set (any other golden file made the same way is checked by the same
/// tests), else from <c>shared/golden/fsr-tiny.safetensors</c> next to the repository or one of its parents. The tiny
/// configuration is read from the file's <c>config</c> metadata — nothing about it is hard-coded in the tests.
/// </summary>
public sealed class GoldenFile : IDisposable
{
    public const string EnvironmentVariable = "FSR_GOLDEN";
    const string RelativePath = "shared/golden/fsr-tiny.safetensors";

    static readonly Lazy<string?> s_path = new(Locate);
    static readonly Lazy<GoldenFile?> s_shared = new(() => s_path.Value is { } p ? new GoldenFile(p) : null);

    /// <summary>Where the golden file was found, or null (then the Golden tests are reported as skipped with <see cref="MissingReason"/>).</summary>
    public static string? PathOrNull => s_path.Value;

    public static string MissingReason =>
        $"golden file not found: set {EnvironmentVariable} or place {RelativePath} next to the repository (see ../shared/golden/README.md)";

    /// <summary>The golden file shared by all tests of a run (opened once, memory-mapped).</summary>
    public static GoldenFile Shared => s_shared.Value ?? throw new InvalidOperationException(MissingReason);

    static string? Locate()
    {
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(env))
        {
            // A path that was asked for but does not exist is an error, not a skip.
            if (!System.IO.File.Exists(env)) throw new FileNotFoundException($"{EnvironmentVariable} names '{env}', which does not exist");
            return env;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, RelativePath);
            if (System.IO.File.Exists(candidate)) return candidate;
        }
        return null;
    }

    public GoldenFile(string path)
    {
        Path = path;
        File = SafetensorsFile.Open(path);
        if (!File.Metadata.TryGetValue("format", out var format) || format != "fsr-golden-v1")
            throw new InvalidDataException($"{path}: metadata 'format' is '{format}', expected 'fsr-golden-v1'");
        Config = JsonDocument.Parse(File.Metadata["config"]).RootElement.Clone();
    }

    public string Path { get; }
    public SafetensorsFile File { get; }

    /// <summary>The tiny configuration (the <c>config</c> metadata, JSON).</summary>
    public JsonElement Config { get; }

    /// <summary>Another metadata entry parsed as JSON (e.g. <c>train_scalars_float64</c>, <c>loss_step0_float64_repr</c>).</summary>
    public JsonElement MetadataJson(string key) => JsonDocument.Parse(File.Metadata[key]).RootElement.Clone();

    public bool Contains(string name) => File.Contains(name);
    public long[] Shape(string name) => File[name].Shape;
    public float[] Floats(string name) => File.ReadFloat32(name);
    public long[] Longs(string name) => File.ReadInt64(name);

    /// <summary>A float32 tensor on <paramref name="device"/> (I64 entries become Int32 tensors).</summary>
    public Tensor Tensor(string name, Device? device = null) => File.LoadTensor(name, device);

    /// <summary>All entries whose name starts with <paramref name="prefix"/>, keyed by the rest of the name.</summary>
    public Dictionary<string, Tensor> WithPrefix(string prefix, Device? device = null)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var e in File.Entries)
            if (e.Name.StartsWith(prefix, StringComparison.Ordinal))
                result[e.Name[prefix.Length..]] = File.LoadTensor(e.Name, device);
        return result;
    }

    public void Dispose() => File.Dispose();
}

/// <summary>A fact that needs the golden file: reported as skipped, with the reason, when the file is not found.</summary>
public sealed class GoldenFactAttribute : FactAttribute
{
    public GoldenFactAttribute()
    {
        if (GoldenFile.PathOrNull == null) Skip = GoldenFile.MissingReason;
    }
}

/// <summary>The theory counterpart of <see cref="GoldenFactAttribute"/>.</summary>
public sealed class GoldenTheoryAttribute : TheoryAttribute
{
    public GoldenTheoryAttribute()
    {
        if (GoldenFile.PathOrNull == null) Skip = GoldenFile.MissingReason;
    }
}

/// <summary>
/// Comparisons with the golden tensors at the README's §7 tolerances: max|Δ| ≤ rel·max|ref| + abs per tensor;
/// a failure names the tensor, the worst element's index, both values and the bound.
/// </summary>
public static class GoldenAssert
{
    public static void Close(string name, ReadOnlySpan<float> reference, ReadOnlySpan<float> actual, double rel, double abs)
    {
        Assert.True(reference.Length == actual.Length, $"{name}: {actual.Length} values, golden has {reference.Length}");
        double maxRef = 0, worst = -1;
        int worstAt = -1;
        for (int i = 0; i < reference.Length; i++) maxRef = Math.Max(maxRef, Math.Abs(reference[i]));
        double bound = rel * maxRef + abs;
        for (int i = 0; i < reference.Length; i++)
        {
            double d = Math.Abs((double)reference[i] - actual[i]);
            if (double.IsNaN(d)) d = double.PositiveInfinity;
            if (d > worst) { worst = d; worstAt = i; }
        }
        if (worst > bound)
            Assert.Fail($"{name}: max|Δ| = {worst:E3} at flat index {worstAt} (golden {reference[worstAt]:R}, ours {actual[worstAt]:R}) > bound {bound:E3} (rel {rel:E1}·max|ref| {maxRef:E3} + abs {abs:E1})");
    }

    public static void Close(GoldenFile golden, string name, Tensor actual, double rel, double abs)
    {
        Assert.True(golden.Shape(name).SequenceEqual(actual.shape.Select(d => (long)d)),
            $"{name}: shape ({string.Join(", ", actual.shape)}), golden ({string.Join(", ", golden.Shape(name))})");
        Close(name, golden.Floats(name), actual.ToArray(), rel, abs);
    }

    /// <summary>Exact equality of integer tensors (labels, masks); the failure counts differing entries and shows the first.</summary>
    public static void Equal(GoldenFile golden, string name, Tensor actual)
    {
        Assert.True(golden.Shape(name).SequenceEqual(actual.shape.Select(d => (long)d)),
            $"{name}: shape ({string.Join(", ", actual.shape)}), golden ({string.Join(", ", golden.Shape(name))})");
        var values = actual.DType == DType.Int32 ? Array.ConvertAll(actual.ToIntArray(), v => (long)v) : Array.ConvertAll(actual.ToArray(), v => (long)v);
        Equal(golden, name, values);
    }

    public static void Equal(GoldenFile golden, string name, ReadOnlySpan<long> actual)
    {
        var reference = golden.Longs(name);
        Assert.True(reference.Length == actual.Length, $"{name}: {actual.Length} values, golden has {reference.Length}");
        int diff = 0, first = -1;
        for (int i = 0; i < reference.Length; i++)
            if (reference[i] != actual[i]) { diff++; if (first < 0) first = i; }
        if (diff > 0) Assert.Fail($"{name}: {diff} of {reference.Length} entries differ; first at flat index {first}: golden {reference[first]}, ours {actual[first]}");
    }
}
