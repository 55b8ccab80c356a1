using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace FsrNative.Bench;

/// <summary>
/// Entry point: BenchmarkSwitcher over every benchmark class in this assembly, so other benchmarks only need a class.
/// Usual BenchmarkDotNet arguments work, e.g.
///   dotnet run -c Release --project bench/FsrNative.Bench -- --filter '*Sgemm*'
///   dotnet run -c Release --project bench/FsrNative.Bench -- --filter '*Sgemm*' --job short
///   dotnet run -c Release --project bench/FsrNative.Bench -- --filter '*Sgemm*' --anyCategories vit
/// "--job short" is BenchmarkDotNet's ShortRun (3 warm-ups, 3 iterations, 1 launch). Benchmarks run in-process
/// (see Main); "--outOfProcess" restores BenchmarkDotNet's default. Markdown (GitHub), CSV and HTML reports go to
/// bench/results/; pass --artifacts DIR to put them under DIR/results instead.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--thread-cpu-vit") return VitThreadCpu.Run(Console.Out);   // one thread, thread CPU time (VitBlockBenchmarks.cs)
        if (args.Length > 0 && args[0] == "--thread-cpu-memory") return MemoryBoundThreadCpu.Run(Console.Out);   // same for MemoryBoundOpBenchmarks.cs
        // In-process by default: BenchmarkDotNet's out-of-process runs build a wrapper project whose output lacks the
        // patched libLibTorchSharp.so (build/TorchSharpNativeFix.targets), and rebuilding costs minutes on 2 cores.
        // "--outOfProcess" (ours, removed before BenchmarkDotNet sees the arguments) asks for its default toolchain.
        bool outOfProcess = args.Contains("--outOfProcess");
        args = args.Where(a => a != "--outOfProcess").ToArray();
        if (!outOfProcess && !args.Contains("--inProcess")) args = [.. args, "--inProcess"];
        // DefaultConfig already exports GitHub markdown, CSV and HTML; they land in <artifacts>/results = bench/results.
        var config = DefaultConfig.Instance
            .WithArtifactsPath(BenchPath())
            .WithOptions(ConfigOptions.DisableLogFile);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }

    /// <summary>bench/, found by walking up from the binary to the folder that holds FsrNative.sln.</summary>
    private static string BenchPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FsrNative.sln")))
                return Path.Combine(dir.FullName, "bench");
        return Path.Combine(Directory.GetCurrentDirectory(), "BenchmarkDotNet.Artifacts");
    }
}
