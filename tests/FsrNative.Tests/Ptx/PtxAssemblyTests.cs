using System.Text;
using System.Text.RegularExpressions;
using FsrNative.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FsrNative.Tests.Ptx;

/// <summary>
/// Every ILGPU kernel of FsrNative.Kernels (every static method marked [GpuKernel]) and every hand-written
/// kernels-ptx/*.ptx file must assemble with ptxas for sm_80 and sm_90. One test case per kernel / per file.
/// ptxas is found or installed by <see cref="Ptxas"/>; without it these tests fail (never skip).
/// The PTX that was assembled is kept under artifacts/ptx/ for inspection; the resources ptxas reported are
/// written to docs/kernels-ptxas.md by <see cref="PtxReport"/>.
/// </summary>
[Trait(Categories.Trait, Categories.Ptx)]
public sealed partial class PtxAssemblyTests(PtxReport report, ITestOutputHelper output) : IClassFixture<PtxReport>
{
    /// <summary>The single case a theory gets when there is nothing to check, so that it still shows (and passes).</summary>
    public const string NoneYet = "(none yet)";

    public static IEnumerable<string> KernelIds() => IlgpuPtx.ProductionKernels().Select(k => k.Id);

    public static IEnumerable<string> PtxFileNames() =>
        Directory.Exists(RepoPaths.KernelsPtx)
            ? Directory.EnumerateFiles(RepoPaths.KernelsPtx, "*.ptx", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(RepoPaths.KernelsPtx, f).Replace('\\', '/'))
                .Order(StringComparer.Ordinal)
            : [];

    public static TheoryData<string> IlgpuKernels() => WithPlaceholder(KernelIds());
    public static TheoryData<string> PtxFiles() => WithPlaceholder(PtxFileNames());

    private static TheoryData<string> WithPlaceholder(IEnumerable<string> ids)
    {
        var data = new TheoryData<string>();
        foreach (var id in ids) data.Add(id);
        if (data.Count == 0) data.Add(NoneYet);
        return data;
    }

    [Theory]
    [MemberData(nameof(IlgpuKernels))]
    public void IlgpuKernelAssembles(string kernel)
    {
        if (kernel == NoneYet)
        {
            output.WriteLine("FsrNative.Kernels has no [GpuKernel] methods yet; PtxToolchainSanity proves the toolchain on sample kernels.");
            report.CaseDone(kernel);
            return;
        }
        var (id, method, attr) = IlgpuPtx.ProductionKernels().Single(k => k.Id == kernel);
        var perArch = new List<PtxasEntryInfo>();
        try
        {
            if (method.IsGenericMethodDefinition)
                throw new Xunit.Sdk.XunitException($"{id} is generic: ILGPU compiles closed methods only. Put [GpuKernel] on " +
                    "non-generic wrappers (one per element type) that call the generic body.");
            foreach (var target in IlgpuPtx.Targets)
            {
                string ptx;
                try
                {
                    ptx = IlgpuPtx.Compile(method, attr.ExplicitlyGrouped, target);
                }
                catch (Exception ex)
                {
                    throw new Xunit.Sdk.XunitException($"ILGPU could not compile {id} for {target} " +
                        $"({(attr.ExplicitlyGrouped ? "explicitly" : "implicitly")} grouped): {ex}");
                }
                string file = PtxArtifacts.Write($"{id}.{target.Name}.ptx", ptx);
                var result = Ptxas.Assemble(file, target.PtxasArch);
                output.WriteLine($"{target}: {file}");
                output.WriteLine(result.Output.TrimEnd());
                if (!result.Succeeded)
                    throw new Xunit.Sdk.XunitException($"ptxas -arch={target.PtxasArch} failed on {id} (exit {result.ExitCode}); PTX kept at {file}:\n{result.Output}");
                if (result.Entries.Count == 0)
                    throw new Xunit.Sdk.XunitException($"ptxas -v reported no entry function for {id} on {target.PtxasArch}:\n{result.Output}");
                perArch.AddRange(result.Entries);
            }
            report.Record("ILGPU", id, perArch, null);
        }
        catch (Exception ex)
        {
            report.Record("ILGPU", id, perArch, ex.Message);
            throw;
        }
        finally
        {
            report.CaseDone(kernel);
        }
    }

    [Theory]
    [MemberData(nameof(PtxFiles))]
    public void HandWrittenPtxAssembles(string file)
    {
        if (file == NoneYet)
        {
            output.WriteLine($"No *.ptx files in {RepoPaths.KernelsPtx} yet.");
            report.CaseDone(file);
            return;
        }
        string path = Path.Combine(RepoPaths.KernelsPtx, file);
        var perArch = new List<PtxasEntryInfo>();
        try
        {
            string text = File.ReadAllText(path);
            var archs = ArchsFor(text, file);
            foreach (var arch in archs)
            {
                var result = Ptxas.Assemble(path, arch);
                output.WriteLine($"{arch}:");
                output.WriteLine(result.Output.TrimEnd());
                if (!result.Succeeded)
                    throw new Xunit.Sdk.XunitException($"ptxas -arch={arch} failed on kernels-ptx/{file} (exit {result.ExitCode}):\n{result.Output}");
                if (result.Entries.Count == 0)
                    throw new Xunit.Sdk.XunitException($"ptxas -v reported no entry function in kernels-ptx/{file} for {arch}:\n{result.Output}");
                perArch.AddRange(result.Entries);
            }
            report.Record("kernels-ptx", file, perArch, null);
        }
        catch (Exception ex)
        {
            report.Record("kernels-ptx", file, perArch, ex.Message);
            throw;
        }
        finally
        {
            report.CaseDone(file);
        }
    }

    /// <summary>
    /// The architectures a hand-written file is assembled for: sm_80 and sm_90, less those below the file's
    /// <c>.target</c> (a file written for sm_90 cannot run on sm_80); an arch-specific target such as sm_90a is
    /// assembled for exactly that target.
    /// </summary>
    public static IReadOnlyList<string> ArchsFor(string ptx, string what)
    {
        var m = TargetRegex().Match(ptx);
        if (!m.Success) throw new Xunit.Sdk.XunitException($"{what}: no `.target sm_XX` directive.");
        int sm = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        if (m.Groups[2].Value == "a") return [$"sm_{sm}a"];
        var archs = IlgpuPtx.Targets.Select(t => t.Architecture.Major * 10 + t.Architecture.Minor).Where(a => a >= sm).Select(a => $"sm_{a}").ToList();
        if (archs.Count == 0) throw new Xunit.Sdk.XunitException($"{what}: `.target sm_{sm}` is newer than every checked architecture (sm_80, sm_90).");
        return archs;
    }

    [GeneratedRegex(@"^\s*\.target\s+sm_(\d+)(a?)", RegexOptions.Multiline)]
    private static partial Regex TargetRegex();
}

/// <summary>Where the PTX the tests assemble is kept: &lt;repo&gt;/artifacts/ptx (gitignored).</summary>
public static class PtxArtifacts
{
    public static string Directory => Path.Combine(RepoPaths.Root, "artifacts", "ptx");

    public static string Write(string name, string ptx)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var safe = new StringBuilder(name.Length);
        foreach (char c in name) safe.Append(char.IsLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        string path = Path.Combine(Directory, safe.ToString());
        File.WriteAllText(path, ptx);
        return path;
    }
}
