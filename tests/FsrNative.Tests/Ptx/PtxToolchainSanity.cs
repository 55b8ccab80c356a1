using System.Reflection;
using System.Text.RegularExpressions;
using FsrNative.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FsrNative.Tests.Ptx;

/// <summary>
/// The PTX toolchain works end to end on the sample kernels of the test assembly (<see cref="SampleKernels"/>):
/// discovery finds them, ILGPU compiles them for sm_80 (ISA 7.0) and sm_90 (ISA 7.8), ptxas assembles them and
/// its -v report parses. Independent of whether FsrNative.Kernels has kernels yet.
/// </summary>
[Trait(Categories.Trait, Categories.Ptx)]
public sealed partial class PtxToolchainSanity(ITestOutputHelper output)
{
    [Fact]
    public void SampleKernelsAssembleForSm80AndSm90()
    {
        var kernels = IlgpuPtx.DiscoverKernels(typeof(SampleKernels).Assembly)
            .Where(k => k.Method.DeclaringType == typeof(SampleKernels)).ToList();
        Assert.Equal(
            [$"{typeof(SampleKernels).FullName}.{nameof(SampleKernels.Add)}", $"{typeof(SampleKernels).FullName}.{nameof(SampleKernels.GroupSum)}"],
            kernels.Select(k => k.Id));
        output.WriteLine(Ptxas.Version);

        foreach (var (id, method, attr) in kernels)
            foreach (var target in IlgpuPtx.Targets)
            {
                string ptx = IlgpuPtx.Compile(method, attr.ExplicitlyGrouped, target);
                string file = PtxArtifacts.Write($"sanity.{method.Name}.{target.Name}.ptx", ptx);
                output.WriteLine($"--- {method.Name} {target}: {file}");
                output.WriteLine("ILGPU header: " + string.Join(" | ", HeaderRegex().Matches(ptx).Select(m => m.Value.Trim())));

                // ILGPU writes the ISA version it was asked for.
                Assert.Contains($".version {target.InstructionSet.Major}.{target.InstructionSet.Minor}", ptx, StringComparison.Ordinal);
                Assert.Contains(".entry", ptx, StringComparison.Ordinal);
                if (method.Name == nameof(SampleKernels.GroupSum))
                {
                    Assert.Contains(".shared", ptx, StringComparison.Ordinal);
                    Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
                }

                var result = Ptxas.Assemble(file, target.PtxasArch);
                output.WriteLine(result.Output.TrimEnd());
                Assert.True(result.Succeeded, $"ptxas -arch={target.PtxasArch} failed on {id} (exit {result.ExitCode}):\n{result.Output}");
                var e = Assert.Single(result.Entries);
                Assert.Equal(target.PtxasArch, e.Arch);
                Assert.InRange(e.Registers, 1, 255);
                Assert.Equal(0, e.SpillStoreBytes);
                Assert.Equal(0, e.SpillLoadBytes);
                if (method.Name == nameof(SampleKernels.GroupSum))
                    Assert.Equal(SampleKernels.ReduceGroupSize * sizeof(float), e.SharedBytes);
                else
                    Assert.Equal(0, e.SharedBytes);
                output.WriteLine($"=> {e}");
            }
    }

    [Fact]
    public void PtxasVerboseOutputParses()
    {
        // The shape of ptxas 11.8's -v output, including a non-inlined .func whose properties must not be taken for the entry's.
        const string sample = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Function properties for helper
                8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads
            ptxas info    : Compiling entry function 'Kernel_A' for 'sm_80'
            ptxas info    : Function properties for Kernel_A
                16 bytes stack frame, 12 bytes spill stores, 8 bytes spill loads
            ptxas info    : Used 40 registers, 1024 bytes smem, 380 bytes cmem[0], 4 bytes cmem[2]
            ptxas info    : Compiling entry function 'Kernel_B' for 'sm_80'
            ptxas info    : Function properties for Kernel_B
                0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 8 registers, 360 bytes cmem[0]
            """;
        var entries = Ptxas.ParseVerbose(sample, "sm_80");
        Assert.Equal(
            [new PtxasEntryInfo("Kernel_A", "sm_80", 40, 1024, 16, 12, 8, 384), new PtxasEntryInfo("Kernel_B", "sm_80", 8, 0, 0, 0, 0, 360)],
            entries);
    }

    [Fact]
    public void HandWrittenPtxArchitecturesFollowTheTarget()
    {
        Assert.Equal(["sm_80", "sm_90"], PtxAssemblyTests.ArchsFor(".version 7.0\n.target sm_80\n", "a"));
        Assert.Equal(["sm_80", "sm_90"], PtxAssemblyTests.ArchsFor(".version 7.0\n.target sm_75\n", "b"));
        Assert.Equal(["sm_90"], PtxAssemblyTests.ArchsFor(".version 7.8\n.target sm_90\n", "c"));
        Assert.Equal(["sm_90a"], PtxAssemblyTests.ArchsFor(".version 7.8\n.target sm_90a\n", "d"));
    }

    [GeneratedRegex(@"^\s*\.(version|target|address_size)\b.*$", RegexOptions.Multiline)]
    private static partial Regex HeaderRegex();
}
