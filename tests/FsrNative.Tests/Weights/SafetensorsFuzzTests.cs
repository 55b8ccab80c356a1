using System.Text;
using FsrNative.Tests.Infrastructure;
using FsrNative.Weights;
using Xunit.Abstractions;

namespace FsrNative.Tests.Weights;

/// <summary>
/// Feeds 12,000 seeded mutations of a valid file (bit flips anywhere and in the header, truncations, length-field
/// edits, character and number edits of the header text, dtype swaps, inserted bytes including invalid UTF-8,
/// duplicated entries, trailing bytes) to the reader and reads every tensor of those that open: the only exception
/// allowed out is <see cref="SafetensorsFormatException"/>. A further 200 go through files on disk (memory-mapped).
/// </summary>
[Trait(Categories.Trait, WeightsCategory.Name)]
public sealed class SafetensorsFuzzTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("fsr-fuzz-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] DTypes = ["F32", "F16", "BF16", "I64", "I32", "U8", "BOOL", "F64", "F8_E4M3", "U64", "X", "", "f32"];
    const string Palette = "{}[],:\"0123456789-.eE \\aFIBu\u00e9";

    static byte[] BaseFile(int bigElements)
    {
        var vals = TestRandom.Normal(1, Math.Max(bigElements, 6));
        return RawSafetensors.Build(
        [
            new("w", "F32", [2, 3], RawSafetensors.F32(vals[..6])),
            new("h", "F16", [4], RawSafetensors.F16([1f, -2f, 0.5f, 65504f])),
            new("b", "BF16", [2, 2], RawSafetensors.BF16([1f, -2f, 0.5f, 3f])),
            new("i", "I64", [3], RawSafetensors.I64([7, -1, 1L << 30])),
            new("z", "F32", [0, 5], []),
            new("big", "F32", [bigElements], RawSafetensors.F32(vals[..bigElements])),
        ], new Dictionary<string, string> { ["format"] = "pt" });
    }

    static byte[] Mutate(byte[] src, Random rng, out string kind)
    {
        ulong headerLen = BitConverter.ToUInt64(src, 0);
        int hl = (int)headerLen;
        string header = Encoding.UTF8.GetString(src, 8, hl);
        byte[] data = src[(8 + hl)..];
        byte[] Reassemble(string h) => RawSafetensors.Assemble(h, data);
        switch (rng.Next(11))
        {
            case 0:
            {
                kind = "bit flips anywhere";
                var b = (byte[])src.Clone();
                for (int k = rng.Next(1, 5); k > 0; k--) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            }
            case 1:
            {
                kind = "bit flips in the header";
                var b = (byte[])src.Clone();
                for (int k = rng.Next(1, 3); k > 0; k--) b[8 + rng.Next(hl)] ^= (byte)(1 << rng.Next(8));
                return b;
            }
            case 2:
                kind = "truncation";
                return src[..rng.Next(src.Length)];
            case 3:
            {
                kind = "length field";
                var b = (byte[])src.Clone();
                ulong v = rng.Next(3) switch
                {
                    0 => headerLen + (ulong)rng.Next(-16, 17),
                    1 => (ulong)rng.NextInt64(),
                    _ => (ulong)rng.Next(0, src.Length + 64),
                };
                BitConverter.GetBytes(v).CopyTo(b, 0);
                return b;
            }
            case 4:
            {
                kind = "header character";
                var chars = header.ToCharArray();
                chars[rng.Next(chars.Length)] = Palette[rng.Next(Palette.Length)];
                return Reassemble(new string(chars));
            }
            case 5:
            {
                kind = "header cut/paste";
                int a = rng.Next(header.Length), len = rng.Next(1, 20);
                string piece = header.Substring(a, Math.Min(len, header.Length - a));
                string h = rng.Next(2) == 0 ? header.Remove(a, piece.Length) : header.Insert(rng.Next(header.Length), piece);
                return Reassemble(h);
            }
            case 6:
            {
                kind = "header number";
                var digits = System.Text.RegularExpressions.Regex.Matches(header, "[0-9]+");
                var m = digits[rng.Next(digits.Count)];
                string replacement = rng.Next(5) switch
                {
                    0 => "-" + rng.Next(100),
                    1 => "18446744073709551616",
                    2 => "9223372036854775807",
                    3 => rng.Next(0, 200).ToString(System.Globalization.CultureInfo.InvariantCulture) + (rng.Next(2) == 0 ? ".5" : "e3"),
                    _ => rng.Next(0, 64).ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
                return Reassemble(header[..m.Index] + replacement + header[(m.Index + m.Length)..]);
            }
            case 7:
            {
                kind = "dtype";
                var ms = System.Text.RegularExpressions.Regex.Matches(header, "\"dtype\":\"([A-Z0-9_]+)\"");
                var m = ms[rng.Next(ms.Count)].Groups[1];
                return Reassemble(header[..m.Index] + DTypes[rng.Next(DTypes.Length)] + header[(m.Index + m.Length)..]);
            }
            case 8:
            {
                kind = "duplicated entry";
                var ms = System.Text.RegularExpressions.Regex.Matches(header, "\"[a-z_]+\":\\{\"dtype[^}]*\\}");
                var m = ms[rng.Next(ms.Count)];
                return Reassemble(header.Insert(header.LastIndexOf('}'), "," + m.Value));
            }
            case 9:
            {
                kind = "inserted bytes";
                var hb = Encoding.UTF8.GetBytes(header).ToList();
                int at = rng.Next(hb.Count);
                for (int k = rng.Next(1, 4); k > 0; k--) hb.Insert(at, rng.Next(3) == 0 ? (byte)rng.Next(0x80, 0x100) : (byte)rng.Next(0x20, 0x7F));
                return RawSafetensors.Assemble(hb.ToArray(), data);
            }
            default:
            {
                kind = "trailing bytes";
                var extra = new byte[rng.Next(1, 9)];
                rng.NextBytes(extra);
                return [.. src, .. extra];
            }
        }
    }

    /// <summary>Opens the bytes and reads every tensor in every way; true if the file was accepted.</summary>
    static bool Exercise(Func<SafetensorsFile> open)
    {
        using var scope = torch.NewDisposeScope();
        using var f = open();
        foreach (var e in f.Entries)
        {
            if (e.DType is "F32" or "F16" or "BF16" or "F64") f.ReadFloat32(e.Name);
            else { f.ReadInt64(e.Name); f.ReadInt32(e.Name); }
            f.LoadTensor(e.Name);
        }
        _ = f.Metadata.Count;
        return true;
    }

    static (int accepted, int rejected, Dictionary<string, int> faults) Run(int count, int seed, byte[] baseFile, Func<byte[], int, Func<SafetensorsFile>> opener)
    {
        var rng = new Random(seed);
        int accepted = 0, rejected = 0;
        var faults = new Dictionary<string, int>();
        for (int i = 0; i < count; i++)
        {
            var bytes = Mutate(baseFile, rng, out string kind);
            try
            {
                if (Exercise(opener(bytes, i))) accepted++;
            }
            catch (SafetensorsFormatException e)
            {
                rejected++;
                string key = new string(e.Fault.TakeWhile(c => !char.IsDigit(c) && c != '\'' && c != '[').ToArray()).Trim();
                faults[key] = faults.GetValueOrDefault(key) + 1;
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"mutation {i} (seed {seed}, {kind}) raised {e.GetType().Name} instead of SafetensorsFormatException: {e.Message}\n{e.StackTrace}");
            }
        }
        return (accepted, rejected, faults);
    }

    [Fact]
    public void TwelveThousandMutatedBuffersRaiseOnlyTypedErrors()
    {
        var baseFile = BaseFile(8);
        Exercise(() => SafetensorsFile.FromBytes(baseFile));   // the base is valid
        var (accepted, rejected, faults) = Run(12_000, 20240601, baseFile, (b, i) => () => SafetensorsFile.FromBytes(b, $"fuzz#{i}"));
        output.WriteLine($"accepted {accepted}, rejected {rejected}: " + string.Join("; ", faults.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} ×{kv.Value}")));
        Assert.Equal(12_000, accepted + rejected);
        Assert.True(rejected > 8_000, $"only {rejected} of 12000 mutations were rejected");
        Assert.True(accepted > 100, $"only {accepted} mutations were accepted: the mutations are too coarse to reach the readers");
        Assert.True(faults.Count >= 15, "too few kinds of fault were reached: " + string.Join("; ", faults.Select(kv => $"{kv.Key} ×{kv.Value}")));
    }

    [Fact]
    public void MutatedFilesOnDiskRaiseOnlyTypedErrors()
    {
        var baseFile = BaseFile(1500);   // > 4 KiB: memory-mapped
        var (accepted, rejected, _) = Run(200, 7, baseFile, (b, i) =>
        {
            string path = Path.Combine(_dir, $"m{i}.safetensors");
            File.WriteAllBytes(path, b);
            return () => SafetensorsFile.Open(path);
        });
        Assert.Equal(200, accepted + rejected);
    }
}
