using FsrNative.Data;
using FsrNative.Data.Synthetic;

namespace FsrNative.Tests.Data;

/// <summary>The "Data" test category: datasets, codecs, augmentation and the loader
/// (<c>dotnet test FsrNative.sln -c Release --filter Category=Data</c>).</summary>
public static class DataCategory
{
    public const string Name = "Data";
}

/// <summary>Temporary folders and a small synthetic dataset shared by the data tests (generated once per run).</summary>
public static class DataTestSupport
{
    static readonly string Base = Path.Combine(Path.GetTempPath(), $"fsr-data-tests-{Environment.ProcessId}");
    static int _counter;

    static DataTestSupport()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(Base, true); } catch (IOException) { } catch (UnauthorizedAccessException) { } };
    }

    /// <summary>A new empty folder that is removed when the test process exits.</summary>
    public static string NewTempDir(string name)
    {
        string dir = Path.Combine(Base, $"{name}-{Interlocked.Increment(ref _counter)}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static readonly SyntheticOptions SmallOptions = new() { Seed = 7, Train = 40, Val = 10, Size = 64, Parallelism = 2 };

    static readonly Lazy<string> Small = new(() => SyntheticDataset.EnsureAt(Path.Combine(Base, "synthetic-small"), SmallOptions));

    /// <summary>A read-only (by convention) synthetic dataset: 40 train + 10 val images of 64×64, seed 7.</summary>
    public static string SmallSynthetic => Small.Value;

    /// <summary>A private, writable copy of the small synthetic dataset (for tests that damage files).</summary>
    public static string CopyOfSmall(string name)
    {
        string dst = NewTempDir(name);
        foreach (var file in Directory.EnumerateFiles(SmallSynthetic, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(SmallSynthetic, file);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dst, rel))!);
            File.Copy(file, Path.Combine(dst, rel));
        }
        return dst;
    }
}
