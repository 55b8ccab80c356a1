using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Ptx;

/// <summary>
/// Collects what ptxas reported for every kernel and architecture during a test run, and writes
/// docs/kernels-ptxas.md when the run covered every kernel (a run filtered to fewer cases leaves the file alone).
/// Used as the class fixture of <see cref="PtxAssemblyTests"/>.
/// </summary>
public sealed class PtxReport : IDisposable
{
    public const string RelativePath = "docs/kernels-ptxas.md";

    private readonly ConcurrentDictionary<(string Source, string Kernel), Row> _rows = new();
    private readonly ConcurrentDictionary<string, bool> _casesDone = new(StringComparer.Ordinal);

    private sealed record Row(string Source, string Kernel, string Ptx, IReadOnlyList<PtxasEntryInfo> PerArch, string? Failure);

    /// <summary>The test cases the full run consists of (ILGPU kernel ids and kernels-ptx file names).</summary>
    public IReadOnlyCollection<string> ExpectedCases { get; } =
        PtxAssemblyTests.KernelIds().Concat(PtxAssemblyTests.PtxFileNames()).ToHashSet(StringComparer.Ordinal);

    public void Record(string source, string kernel, IReadOnlyList<PtxasEntryInfo> perArch, string? failure, string ptxDescription = "")
        => _rows[(source, kernel)] = new Row(source, kernel, ptxDescription, perArch, failure);

    public void CaseDone(string caseId) => _casesDone[caseId] = true;

    public void Dispose()
    {
        var missing = ExpectedCases.Where(c => !_casesDone.ContainsKey(c)).ToList();
        if (missing.Count > 0) return; // partial (filtered) run: the table would be incomplete
        string path = Path.Combine(RepoPaths.Root, RelativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string text = Render();
        if (!File.Exists(path) || File.ReadAllText(path) != text) File.WriteAllText(path, text);
    }

    private string Render()
    {
        var ic = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("# Kernel resources reported by ptxas");
        sb.AppendLine();
        sb.AppendLine("<!-- GENERATED FILE: do not edit. Written by the Ptx tests (tests/FsrNative.Tests/Ptx/PtxAssemblyTests.cs)");
        sb.AppendLine("     whenever every Ptx test case runs (the full suite, or the filter below). Regenerate with:");
        sb.AppendLine("       dotnet test FsrNative.sln -c Release --filter Category=Ptx -->");
        sb.AppendLine();
        sb.AppendLine(ic, $"Every `[GpuKernel]` method of FsrNative.Kernels, compiled to PTX by ILGPU {IlgpuPtx.IlgpuVersion} " +
                          $"({string.Join(", ", IlgpuPtx.Targets)}), and every `kernels-ptx/*.ptx` file, assembled by " +
                          $"`ptxas -v` ({Ptxas.Version}).");
        sb.AppendLine("Shared memory is the static amount (`.shared` arrays); dynamic shared memory is sized at launch and not included.");
        sb.AppendLine("Spill stores/loads are bytes per thread moved to local memory because registers ran out; non-zero is worth a look.");
        sb.AppendLine();
        if (_rows.IsEmpty)
        {
            sb.AppendLine("_No kernels yet: FsrNative.Kernels has no `[GpuKernel]` methods and kernels-ptx/ has no .ptx files._");
            return sb.ToString();
        }
        sb.AppendLine("| kernel | source | arch | registers | shared memory (bytes) | stack frame (bytes) | spill stores (bytes) | spill loads (bytes) |");
        sb.AppendLine("|---|---|---|---:|---:|---:|---:|---:|");
        foreach (var row in _rows.Values.OrderBy(r => r.Source, StringComparer.Ordinal).ThenBy(r => r.Kernel, StringComparer.Ordinal))
        {
            if (row.Failure is not null)
            {
                sb.AppendLine(ic, $"| `{row.Kernel}` | {row.Source} | — | FAILED: {Escape(FirstLine(row.Failure))} | | | | |");
                continue;
            }
            foreach (var e in row.PerArch)
            {
                string name = row.PerArch.Select(x => x.Entry).Distinct().Count() > 1 ? $"`{row.Kernel}` ({e.Entry})" : $"`{row.Kernel}`";
                sb.AppendLine(ic, $"| {name} | {row.Source} | {e.Arch} | {e.Registers} | {e.SharedBytes} | {e.StackFrameBytes} | {e.SpillStoreBytes} | {e.SpillLoadBytes} |");
            }
        }
        return sb.ToString();

        static string FirstLine(string s) => s.Split('\n')[0].Trim();
        static string Escape(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);
    }
}
