using System.Globalization;
using System.Text.RegularExpressions;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Ptx;

/// <summary>Every kernels-ptx/*.ptx declares PTX ISA ≤ 7.8 (what Debian's ptxas 11.8 and every CUDA ≥ 11.8 driver accept)
/// and <c>.target sm_80</c> (runs on sm_80 and newer, JIT-compiled by the driver), has a header comment and the entry the
/// loader launches; and the files embedded in FsrNative.Tensor (what <see cref="PtxModule"/> loads) are these files, byte for byte.</summary>
[Trait(Categories.Trait, Categories.Ptx)]
public sealed partial class HandWrittenPtxHeaderTests
{
    public static TheoryData<string, string> Files() => new()
    {
        { "gemm_tf32_mma.ptx", "fsr_gemm_tf32" },
        { "gemm_bf16_mma.ptx", "fsr_gemm_bf16" },
        { "attention_fwd.ptx", "fsr_attention_fwd_d64" },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void VersionTargetHeaderAndEntry(string file, string entry)
    {
        string text = File.ReadAllText(Path.Combine(RepoPaths.KernelsPtx, file));
        var v = VersionRegex().Match(text);
        Assert.True(v.Success, $"{file}: no .version");
        var version = new Version(int.Parse(v.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(v.Groups[2].Value, CultureInfo.InvariantCulture));
        Assert.True(version <= new Version(7, 8), $"{file}: .version {version} > 7.8");
        Assert.Matches(@"(?m)^\.target sm_80\s*$", text);
        Assert.StartsWith("//", text);
        Assert.Contains($".visible .entry {entry}(", text);
        Assert.Equal(text, PtxModule.Text(file));
    }

    [Fact]
    public void EveryFileIsEmbeddedAndListed()
    {
        var onDisk = Directory.EnumerateFiles(RepoPaths.KernelsPtx, "*.ptx").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(onDisk, PtxModule.EmbeddedFiles);
        Assert.Equal(onDisk, Files().Select(r => (string)r[0]).Order(StringComparer.Ordinal));
    }

    [GeneratedRegex(@"(?m)^\.version\s+(\d+)\.(\d+)")]
    private static partial Regex VersionRegex();
}
