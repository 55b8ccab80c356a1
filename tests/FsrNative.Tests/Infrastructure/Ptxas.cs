using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FsrNative.Tests.Infrastructure;

/// <summary>What ptxas -v reported for one entry function on one architecture.</summary>
public sealed record PtxasEntryInfo(
    string Entry, string Arch, int Registers, int SharedBytes, int StackFrameBytes, int SpillStoreBytes, int SpillLoadBytes,
    int ConstantBytes);

/// <summary>The result of one ptxas run.</summary>
public sealed record PtxasResult(string Arch, int ExitCode, string Output, IReadOnlyList<PtxasEntryInfo> Entries)
{
    public bool Succeeded => ExitCode == 0;
    /// <summary>Lines of the output that ptxas flagged as warnings or errors.</summary>
    public IEnumerable<string> Problems => Output.Split('\n').Where(l => l.Contains("warning", StringComparison.OrdinalIgnoreCase) || l.Contains("error", StringComparison.OrdinalIgnoreCase)).Select(l => l.Trim());
}

/// <summary>
/// NVIDIA's PTX assembler, found and run without a GPU. Lookup order: the FSR_PTXAS environment variable (a path
/// to ptxas), then &lt;repo&gt;/.tools/cuda/usr/bin/ptxas (what tools/get-ptxas.sh and .ci/run install), then
/// ptxas on PATH. When none is found, tools/get-ptxas.sh is run once (it needs only apt-get and network access,
/// not root; set FSR_PTXAS_NO_INSTALL=1 to forbid that); if ptxas still cannot be found the Ptx tests FAIL with
/// instructions. They are never skipped.
/// </summary>
public static partial class Ptxas
{
    /// <summary>The oldest ptxas that accepts what the tests ask for (PTX ISA 7.8, sm_90).</summary>
    public static readonly Version MinimumRelease = new(11, 8);

    private static readonly Lazy<(string? Path, string Version, string? Error)> Tool = new(Locate, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The ptxas path; throws with instructions when there is none.</summary>
    public static string Path
    {
        get
        {
            var t = Tool.Value;
            if (t.Path is null) throw new InvalidOperationException(t.Error);
            return t.Path;
        }
    }

    /// <summary>The first line of <c>ptxas --version</c> that names the release, e.g. "Cuda compilation tools, release 11.8, V11.8.89".</summary>
    public static string Version
    {
        get
        {
            _ = Path;
            return Tool.Value.Version;
        }
    }

    private static string Instructions =>
        "To get ptxas (CUDA 11.8, no GPU needed): run `bash tools/get-ptxas.sh` in the repository (it downloads Debian 12's " +
        "non-free package nvidia-cuda-toolkit with a private apt configuration and unpacks only ptxas into .tools/cuda/usr/bin), " +
        "or set FSR_PTXAS to a ptxas of CUDA ≥ 11.8, or put one on PATH. `bash .ci/run` does the first for you.";

    private static (string?, string, string?) Locate()
    {
        var tried = new List<string>();

        string? env = Environment.GetEnvironmentVariable("FSR_PTXAS");
        if (!string.IsNullOrWhiteSpace(env))
        {
            // An explicit choice that does not work is an error, not a reason to look elsewhere.
            var (ok, version, why) = Probe(env);
            return ok ? (env, version, null) : (null, "", $"FSR_PTXAS={env} is not a usable ptxas: {why}. {Instructions}");
        }

        string local = System.IO.Path.Combine(RepoPaths.Tools, "cuda", "usr", "bin", "ptxas");
        string? onPath = FindOnPath("ptxas");

        foreach (var candidate in new[] { local, onPath })
        {
            if (candidate is null || !File.Exists(candidate)) continue;
            var (ok, version, why) = Probe(candidate);
            if (ok) return (candidate, version, null);
            tried.Add($"{candidate}: {why}");
        }

        if (Environment.GetEnvironmentVariable("FSR_PTXAS_NO_INSTALL") != "1")
        {
            string script = System.IO.Path.Combine(RepoPaths.Root, "tools", "get-ptxas.sh");
            var (code, output) = Run("bash", [script], TimeSpan.FromMinutes(10));
            if (code == 0 && File.Exists(local))
            {
                var (ok, version, why) = Probe(local);
                if (ok) return (local, version, null);
                tried.Add($"{local} (after tools/get-ptxas.sh): {why}");
            }
            else
            {
                tried.Add($"tools/get-ptxas.sh exited with {code}:\n{output.Trim()}");
            }
        }
        else
        {
            tried.Add("FSR_PTXAS_NO_INSTALL=1: tools/get-ptxas.sh not run");
        }

        return (null, "", "No usable ptxas found (FSR_PTXAS unset; looked at " + local + " and PATH). " +
                          (tried.Count > 0 ? "Tried: " + string.Join("; ", tried) + ". " : "") + Instructions);
    }

    private static (bool Ok, string Version, string Why) Probe(string path)
    {
        if (!File.Exists(path)) return (false, "", "no such file");
        int code;
        string output;
        try
        {
            (code, output) = Run(path, ["--version"], TimeSpan.FromSeconds(30));
        }
        catch (Exception ex)
        {
            return (false, "", "cannot run it: " + ex.Message);
        }
        if (code != 0) return (false, "", $"--version exited with {code}: {output.Trim()}");
        var m = ReleaseRegex().Match(output);
        if (!m.Success) return (false, "", "--version does not name a release: " + output.Trim());
        var release = new Version(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        if (release < MinimumRelease) return (false, "", $"release {release} is older than {MinimumRelease} (PTX ISA 7.8 / sm_90 need 11.8)");
        string line = output.Split('\n').FirstOrDefault(l => l.Contains("release", StringComparison.Ordinal))?.Trim() ?? m.Value;
        return (true, line, "");
    }

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string p = System.IO.Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>Assembles one PTX file with <c>ptxas -v -arch=ARCH</c> (output to a temporary cubin that is then deleted).</summary>
    public static PtxasResult Assemble(string ptxFile, string arch)
    {
        string cubin = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fsr-{Guid.NewGuid():N}.cubin");
        try
        {
            var (code, output) = Run(Path, ["-v", $"-arch={arch}", "-o", cubin, ptxFile], TimeSpan.FromMinutes(5));
            return new PtxasResult(arch, code, output, code == 0 ? ParseVerbose(output, arch) : []);
        }
        finally
        {
            File.Delete(cubin);
        }
    }

    /// <summary>
    /// Parses ptxas -v output. Per entry: "Compiling entry function 'NAME' for 'sm_XX'", then "Function properties
    /// for NAME" followed by "N bytes stack frame, N bytes spill stores, N bytes spill loads", then
    /// "Used N registers[, N bytes smem][, N bytes cmem[0]]...".
    /// </summary>
    public static IReadOnlyList<PtxasEntryInfo> ParseVerbose(string output, string arch)
    {
        var entries = new List<PtxasEntryInfo>();
        var props = new Dictionary<string, (int Stack, int Stores, int Loads)>(StringComparer.Ordinal);
        string? entry = null, propsFor = null;
        foreach (var raw in output.Split('\n'))
        {
            string line = raw.Trim();
            Match m;
            if ((m = CompilingEntryRegex().Match(line)).Success) { entry = m.Groups[1].Value; continue; }
            if ((m = FunctionPropertiesRegex().Match(line)).Success) { propsFor = m.Groups[1].Value; continue; }
            if (propsFor is not null && (m = StackSpillRegex().Match(line)).Success)
            {
                props[propsFor] = (Int(m.Groups[1]), Int(m.Groups[2]), Int(m.Groups[3]));
                propsFor = null;
                continue;
            }
            if (entry is not null && (m = UsedRegex().Match(line)).Success)
            {
                int regs = Int(m.Groups[1]);
                var smem = SmemRegex().Match(line);
                var cmem = CmemRegex().Matches(line).Sum(c => Int(c.Groups[1]));
                props.TryGetValue(entry, out var p);
                entries.Add(new PtxasEntryInfo(entry, arch, regs, smem.Success ? Int(smem.Groups[1]) : 0, p.Stack, p.Stores, p.Loads, cmem));
                entry = null;
            }
        }
        return entries;

        static int Int(Group g) => int.Parse(g.Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a process, returns its exit code and stdout+stderr (interleaved by line order of arrival).</summary>
    public static (int ExitCode, string Output) Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = new Process { StartInfo = psi };
        var sb = new StringBuilder();
        void Append(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (sb) sb.AppendLine(e.Data);
        }
        p.OutputDataReceived += Append;
        p.ErrorDataReceived += Append;
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeout))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            lock (sb) return (-1, $"{file} timed out after {timeout.TotalSeconds:F0} s\n{sb}");
        }
        p.WaitForExit(); // drains the async readers
        lock (sb) return (p.ExitCode, sb.ToString());
    }

    [GeneratedRegex(@"release (\d+)\.(\d+)")]
    private static partial Regex ReleaseRegex();
    [GeneratedRegex(@"Compiling entry function '([^']+)' for '([^']+)'")]
    private static partial Regex CompilingEntryRegex();
    [GeneratedRegex(@"Function properties for (\S+)")]
    private static partial Regex FunctionPropertiesRegex();
    [GeneratedRegex(@"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex StackSpillRegex();
    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex UsedRegex();
    [GeneratedRegex(@"(\d+) bytes smem")]
    private static partial Regex SmemRegex();
    [GeneratedRegex(@"(\d+) bytes cmem\[\d+\]")]
    private static partial Regex CmemRegex();
}
