using System.Text;
using FsrNative.Tests.Infrastructure;
using FsrNative.Weights;

namespace FsrNative.Tests.Weights;

using ts = TorchSharp.torch;

/// <summary>The "Weights" test category: safetensors reading/writing, checkpoints, pretrained-weight import.</summary>
public static class WeightsCategory
{
    public const string Name = "Weights";
}

/// <summary>
/// The safetensors reader and writer: round trips, the dtypes users' files hold (F16/BF16 converted by libtorch as
/// the oracle, I64), memory-mapped files, and one test per malformation, each of which must raise a
/// <see cref="SafetensorsFormatException"/> naming the fault (and the tensor where there is one).
/// </summary>
[Trait(Categories.Trait, WeightsCategory.Name)]
public sealed class SafetensorsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("fsr-st-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void RoundTripOfEngineTensorsWithMetadata()
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["b.weight"] = torch.tensor(TestRandom.Normal(1, 12), [3, 4]),
            ["a.index"] = torch.tensor(new[] { 5, -7, int.MaxValue, int.MinValue }, [2, 2]),
            ["empty"] = torch.zeros([0, 3]),
            ["scalar"] = torch.scalar_tensor(2.5f),
        };
        string path = Path.Combine(_dir, "rt.safetensors");
        Safetensors.save_file(tensors, path, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "é\"\\ü" });
        var bytes = File.ReadAllBytes(path);
        ulong headerLen = BitConverter.ToUInt64(bytes, 0);
        Assert.Equal(0UL, headerLen % 8);
        Assert.Equal((byte)'{', bytes[8]);

        using var f = SafetensorsFile.Open(path);
        Assert.Equal("é\"\\ü", f.Metadata["note"]);
        Assert.Equal(["a.index", "b.weight", "empty", "scalar"], f.Entries.Select(e => e.Name).Order());
        Assert.Equal("I32", f["a.index"].DType);
        var back = Safetensors.load_file(path);
        Assert.Equal(tensors["b.weight"].ToArray(), back["b.weight"].ToArray());
        Assert.Equal([3, 4], back["b.weight"].shape);
        Assert.Equal(tensors["a.index"].ToIntArray(), back["a.index"].ToIntArray());
        Assert.Equal([0, 3], back["empty"].shape);
        Assert.Empty(back["scalar"].shape);
        Assert.Equal(2.5f, back["scalar"].item());
    }

    [Fact]
    public void HalfAndBFloat16AreWidenedExactlyAsLibtorchRoundsThem()
    {
        Torch.EnsureInitialized();
        var values = TestRandom.Normal(3, 50, 0f, 10f).Concat([65504f, -0f, 1e-7f, 3.14159f, float.PositiveInfinity]).ToArray();
        // libtorch rounds float32 → half / bfloat16; the bits of its rounded values are the file's bytes.
        var half = Torch.ToArray(ts.tensor(values).to_type(ts.ScalarType.Float16));
        var bf16 = Torch.ToArray(ts.tensor(values).to_type(ts.ScalarType.BFloat16));
        var file = RawSafetensors.Build(
        [
            new("h", "F16", [values.Length], RawSafetensors.F16(half)),
            new("b", "BF16", [5, values.Length / 5], RawSafetensors.BF16(bf16)),
            new("i", "I64", [3], RawSafetensors.I64([1, -2, 3_000_000_000])),
        ]);
        using var f = SafetensorsFile.FromBytes(file, "dtypes");
        Assert.Equal(half, f.ReadFloat32("h"));
        Assert.Equal(bf16, f.ReadFloat32("b"));
        Assert.Equal([1L, -2, 3_000_000_000], f.ReadInt64("i"));
        var e = Assert.Throws<SafetensorsFormatException>(() => f.ReadInt32("i"));
        Assert.Equal("i", e.TensorName);
        Assert.Contains("outside the Int32 range", e.Fault);
        Assert.Throws<SafetensorsFormatException>(() => f.LoadTensor("i"));
        Assert.Throws<SafetensorsFormatException>(() => f.ReadFloat32("i"));
        using var scope = torch.NewDisposeScope();
        Assert.Equal([5, 11], f.LoadTensor("b").shape);
    }

    [Fact]
    public void LargeFilesAreMemoryMapped()
    {
        var v = TestRandom.Normal(9, 300_000);
        string path = Path.Combine(_dir, "big.safetensors");
        File.WriteAllBytes(path, RawSafetensors.Build([new("x", "F32", [600, 500], RawSafetensors.F32(v)), new("y", "F32", [2], RawSafetensors.F32([1, 2]))]));
        using (var f = SafetensorsFile.Open(path))
        {
            Assert.Equal(v, f.ReadFloat32("x"));
            Assert.Equal([1f, 2f], f.ReadFloat32("y"));
        }
        File.Delete(path);   // the mapping was released
    }

    // ---- malformed files -----------------------------------------------------------------------------------------

    static readonly RawSafetensors.Item A = new("a", "F32", [2], RawSafetensors.F32([1, 2]));
    static readonly RawSafetensors.Item B = new("b", "F32", [1, 1], RawSafetensors.F32([3]));
    static byte[] Data => RawSafetensors.F32([1, 2, 3]);

    public static TheoryData<string, byte[], string, string?> Malformed()
    {
        string good = RawSafetensors.HeaderJson([A, B]);
        var d = new TheoryData<string, byte[], string, string?>
        {
            { "empty file", [], "truncated", null },
            { "shorter than the length field", [1, 0, 0], "truncated", null },
            { "header longer than the file", RawSafetensors.Assemble(good, Data, 10_000), "runs past the end of the file", null },
            { "absurd header length", RawSafetensors.Assemble(good, Data, 100_000_001), "exceeds the limit", null },
            { "header length near 2^64", RawSafetensors.Assemble(good, Data, ulong.MaxValue - 3), "exceeds the limit", null },
            { "invalid UTF-8", RawSafetensors.Assemble([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'], Data), "not valid UTF-8", null },
            { "not an object", RawSafetensors.Assemble("[1,2]", Data), "does not start with '{'", null },
            { "empty header", RawSafetensors.Assemble("", Data), "does not start with '{'", null },
            { "broken JSON", RawSafetensors.Assemble(good[..^3], Data), "not valid JSON", null },
            { "trailing garbage", RawSafetensors.Assemble(good + "x", Data), "not valid JSON", null },
            { "unknown dtype", RawSafetensors.Assemble(good.Replace("\"F32\",\"shape\":[1,1]", "\"F31\",\"shape\":[1,1]"), Data), "unknown dtype 'F31'", "b" },
            { "offsets past the data", RawSafetensors.Assemble(RawSafetensors.HeaderJson([A, B]).Replace("[8,12]", "[8,12000]").Replace("[1,1]", "[1,2998]"), Data), "run past the end", "b" },
            { "overlapping", RawSafetensors.Assemble(good.Replace("[8,12]", "[4,8]").Replace("[1,1]", "[1,1]"), Data[..8]), "overlap", "b" },
            { "gap", RawSafetensors.Assemble(good.Replace("[8,12]", "[12,16]"), RawSafetensors.F32([1, 2, 3, 4])), "gap", "b" },
            { "trailing data", RawSafetensors.Assemble(good, RawSafetensors.F32([1, 2, 3, 4])), "cover 12 bytes", null },
            { "short data", RawSafetensors.Assemble(good, Data[..10]), "run past the end", "b" },
            { "shape × dtype ≠ length", RawSafetensors.Assemble(good.Replace("[1,1]", "[1,2]"), Data), "needs 8 bytes", "b" },
            { "shape overflow", RawSafetensors.Assemble(good.Replace("[1,1]", "[4294967296,4294967296]"), Data), "overflows", "b" },
            { "dimension beyond int64", RawSafetensors.Assemble(good.Replace("[1,1]", "[1,99999999999999999999]"), Data), "non-negative 64-bit integer", "b" },
            { "negative dimension", RawSafetensors.Assemble(good.Replace("[1,1]", "[-1,-1]"), Data), "non-negative", "b" },
            { "fractional dimension", RawSafetensors.Assemble(good.Replace("[1,1]", "[1.5,1]"), Data), "non-negative 64-bit integer", "b" },
            { "offsets reversed", RawSafetensors.Assemble(good.Replace("[8,12]", "[12,8]"), Data), "end before they begin", "b" },
            { "three offsets", RawSafetensors.Assemble(good.Replace("[8,12]", "[8,12,16]"), Data), "2 numbers", "b" },
            { "duplicate name", RawSafetensors.Assemble("{" + good[1..^1] + "," + good[1..^1].Split("},\"b\"")[0] + "}}", Data), "appears twice", "a" },
            { "duplicate field", RawSafetensors.Assemble(good.Replace("\"dtype\":\"F32\",\"shape\":[1,1]", "\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1,1]"), Data), "'dtype' given twice", "b" },
            { "missing field", RawSafetensors.Assemble(good.Replace(",\"shape\":[1,1]", ""), Data), "missing field(s): shape", "b" },
            { "unknown field", RawSafetensors.Assemble(good.Replace("\"shape\":[1,1]", "\"shape\":[1,1],\"extra\":1"), Data), "unknown field 'extra'", "b" },
            { "entry not an object", RawSafetensors.Assemble("{\"a\":[1]}", []), "not an object", "a" },
            { "metadata not strings", RawSafetensors.Assemble("{\"__metadata__\":{\"k\":1}," + good[1..], Data), "not a string", null },
            { "metadata twice", RawSafetensors.Assemble("{\"__metadata__\":{},\"__metadata__\":{}," + good[1..], Data), "appears twice", null },
            { "invalid escape", RawSafetensors.Assemble("{\"\\ud800\":{}}", []), "unexpected JSON value", null },
        };
        return d;
    }

    [Theory, MemberData(nameof(Malformed))]
    public void MalformedFilesRaiseATypedErrorNamingTheFault(string what, byte[] file, string fault, string? tensor)
    {
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.FromBytes(file, what).Dispose());
        Assert.Equal(what, e.File);
        Assert.Contains(fault, e.Fault);
        Assert.Equal(tensor, e.TensorName);
        Assert.StartsWith(what + ": ", e.Message);
    }

    [Fact]
    public void ZeroSizeTensorsMayShareAnOffset()
    {
        var file = RawSafetensors.Build([new("z1", "F32", [0], []), A, new("z2", "BF16", [3, 0], []), B]);
        using var f = SafetensorsFile.FromBytes(file);
        Assert.Empty(f.ReadFloat32("z2"));
        Assert.Equal([3f], f.ReadFloat32("b"));
    }

    [Fact]
    public void TheWriterRejectsWhatTheReaderWould()
    {
        using var ms = new MemoryStream();
        Assert.Throws<ArgumentException>(() => Safetensors.Write(ms, [new SafetensorsTensor("x", "F32", [3], new byte[8])]));
        Assert.Throws<ArgumentException>(() => Safetensors.Write(ms, [new SafetensorsTensor("x", "F32", [1], new byte[4]), new SafetensorsTensor("x", "F32", [1], new byte[4])]));
        Assert.Throws<ArgumentException>(() => Safetensors.Write(ms, [new SafetensorsTensor("__metadata__", "F32", [1], new byte[4])]));
        Assert.Throws<ArgumentException>(() => Safetensors.Write(ms, [new SafetensorsTensor("x", "Q4", [1], new byte[4])]));
    }
}
