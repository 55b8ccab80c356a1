using FsrNative.Fsr.Cli;

namespace FsrNative.Fsr;

/// <summary>
/// The <c>fsr</c> executable: verbs <c>train</c>, <c>eval</c>, <c>infer</c>, <c>ablate</c> (FSR, docs/training.md),
/// <c>make-synthetic</c> (the synthetic dataset) and <c>demo</c> (a small end-to-end run of the engine).
/// <c>fsr --help</c> and <c>fsr &lt;verb&gt; --help</c> explain every option.
/// </summary>
public static class Program
{
    public static int Main(string[] args) => Cli.Cli.Build().Parse(args).Invoke();
}
