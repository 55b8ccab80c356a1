using System.Diagnostics;
using FsrNative.Data;
using FsrNative.Data.Synthetic;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Data;

/// <summary>
/// Corrupted image and mask files (seeded: truncations, bit flips, byte overwrites, random bytes, header-only
/// files) through the very loading path the datasets use: every case either decodes or throws a
/// <see cref="DataException"/>, within a time limit per case.
/// </summary>
[Trait(Categories.Trait, DataCategory.Name)]
public class FuzzTests
{
    static byte[] Mutate(byte[] src, PhiloxRandom rng, int kind)
    {
        switch (kind)
        {
            case 0: return src[..rng.NextInt(src.Length)];                                   // truncation
            case 1:
                {
                    var b = (byte[])src.Clone();
                    int flips = 1 + rng.NextInt(8);
                    for (int i = 0; i < flips; i++) b[rng.NextInt(b.Length)] ^= (byte)(1 << rng.NextInt(8));
                    return b;                                                                 // bit flips
                }
            case 2:
                {
                    var b = (byte[])src.Clone();
                    int at = rng.NextInt(Math.Min(b.Length, 400)), len = 1 + rng.NextInt(16);   // damage near the headers
                    for (int i = at; i < Math.Min(b.Length, at + len); i++) b[i] = (byte)rng.NextUInt();
                    return b;
                }
            case 3:
                {
                    var b = new byte[rng.NextInt(2000)];
                    for (int i = 0; i < b.Length; i++) b[i] = (byte)rng.NextUInt();
                    return b;                                                                 // random bytes
                }
            default:
                {
                    // a valid signature and header, then garbage
                    int keep = Math.Min(src.Length, 20 + rng.NextInt(200));
                    var b = new byte[keep + rng.NextInt(3000)];
                    src.AsSpan(0, keep).CopyTo(b);
                    for (int i = keep; i < b.Length; i++) b[i] = (byte)rng.NextUInt();
                    return b;
                }
        }
    }

    [Fact]
    public async Task CorruptedImagesAndMasksGiveTypedErrorsOnly()
    {
        var sources = Enumerable.Range(0, 4).Select(i => SyntheticDataset.Render(5, "val", i, 64)).ToArray();
        var jpgs = sources.Select(s => ImageCodec.EncodeJpeg(s.Rgb, 64, 64)).ToArray();
        var pngs = sources.Select(s => IndexPng.Encode(s.Mask, 64, 64, ClassSet.VocPalette)).ToArray();
        string dir = DataTestSupport.NewTempDir("fuzz");
        var rng = new RandomKey(2024, 0, 0, 0).Open();
        var sw = Stopwatch.StartNew();
        int cases = 0, decoded = 0, typed = 0;
        var problems = new Dictionary<DataProblem, int>();
        for (; cases < 2000; cases++)
        {
            bool mask = (cases & 1) == 1;
            var src = mask ? pngs[rng.NextInt(pngs.Length)] : jpgs[rng.NextInt(jpgs.Length)];
            var bytes = Mutate(src, rng, rng.NextInt(5));
            string path = Path.Combine(dir, mask ? "m.png" : "i.jpg");
            File.WriteAllBytes(path, bytes);
            var task = Task.Run(() =>
            {
                if (mask)
                {
                    var m = ImageCodec.LoadMask(path, out int w, out _);
                    SyntheticDataset.Classes.CheckMask(m, w, path);
                }
                else ImageCodec.LoadRgb(path);
            });
            Exception? error = null;
            try { await task.WaitAsync(TimeSpan.FromSeconds(10)); }
            catch (Exception e) { error = e; }
            string what = $"case {cases} ({(mask ? "mask" : "image")}, {bytes.Length} bytes)";
            Assert.False(error is TimeoutException, $"{what} did not finish in 10 s");
            if (error is null) { decoded++; continue; }
            var de = Assert.IsType<DataException>(error, exactMatch: true);
            typed++;
            Assert.Contains(path, de.Message);
            problems[de.Problem] = problems.GetValueOrDefault(de.Problem) + 1;
        }
        Assert.Equal(cases, decoded + typed);
        Assert.True(typed > cases / 2, $"only {typed} of {cases} corruptions were detected");
        Assert.Contains(DataProblem.Truncated, problems.Keys);
        Assert.Contains(DataProblem.Undecodable, problems.Keys);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"fuzzing took {sw.Elapsed}");
    }
}
