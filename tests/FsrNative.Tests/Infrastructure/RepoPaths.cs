namespace FsrNative.Tests.Infrastructure;

/// <summary>Locations in the repository, found from the test assembly's directory (walks up to FsrNative.sln).</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The repository root (the directory holding FsrNative.sln).</summary>
    public static string Root => RootLazy.Value;

    public static string Docs => Path.Combine(Root, "docs");
    public static string KernelsPtx => Path.Combine(Root, "kernels-ptx");
    public static string Tools => Path.Combine(Root, ".tools");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FsrNative.sln")))
                return dir.FullName;
        throw new InvalidOperationException(
            $"No FsrNative.sln above {AppContext.BaseDirectory}: the tests expect to run from a build inside the repository.");
    }
}
