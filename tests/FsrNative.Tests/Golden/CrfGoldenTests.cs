using System.Text.Json;
using FsrNative.Crf;
using FsrNative.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FsrNative.Tests.Golden;

/// <summary>
/// The CRF family against the authors' PyTorch run in ../shared/golden/fsr-tiny.safetensors (its README, §4.2):
/// the raw permutohedral bilateral filter of the dense-energy loss (rloss's C++ lattice: bit-identical here), the loss
/// value itself, and PAR's outputs for both images and both background levels. The file lives outside the repository;
/// where it is absent (a fresh clone) these tests say so in their output and check nothing.
/// </summary>
[Trait(Categories.Trait, Categories.Golden)]
public class CrfGoldenTests(ITestOutputHelper output)
{
    static CrfGoldenTests() => FsrNative.Kernels.Cpu.CpuKernelSettings.ParallelMinWork = 1 << 14;

    /// <summary>Float32 and Int64 tensors of a safetensors file, by name.</summary>
    internal sealed class SafeTensors
    {
        readonly byte[] _bytes;
        readonly JsonElement _header;
        readonly int _dataStart;

        SafeTensors(byte[] bytes)
        {
            _bytes = bytes;
            long length = BitConverter.ToInt64(bytes, 0);
            _header = JsonDocument.Parse(bytes.AsMemory(8, (int)length)).RootElement;
            _dataStart = 8 + (int)length;
        }

        /// <summary>The golden file: $FSR_GOLDEN_DIR, else shared/golden in the repository's parent directories.</summary>
        public static SafeTensors? Open()
        {
            var candidates = new List<string>();
            if (Environment.GetEnvironmentVariable("FSR_GOLDEN_DIR") is { Length: > 0 } env) candidates.Add(env);
            for (var dir = new DirectoryInfo(RepoPaths.Root); dir is not null; dir = dir.Parent)
                candidates.Add(Path.Combine(dir.FullName, "shared", "golden"));
            foreach (var c in candidates)
            {
                var file = Path.Combine(c, "fsr-tiny.safetensors");
                if (File.Exists(file)) return new SafeTensors(File.ReadAllBytes(file));
            }
            return null;
        }

        public int[] Shape(string name) => _header.GetProperty(name).GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();

        public float[] Floats(string name)
        {
            var (start, end) = Range(name, "F32");
            var r = new float[(end - start) / 4];
            Buffer.BlockCopy(_bytes, _dataStart + start, r, 0, end - start);
            return r;
        }

        public int[] Ints(string name)
        {
            var (start, end) = Range(name, "I64");
            var r = new int[(end - start) / 8];
            for (int i = 0; i < r.Length; i++) r[i] = checked((int)BitConverter.ToInt64(_bytes, _dataStart + start + 8 * i));
            return r;
        }

        (int, int) Range(string name, string dtype)
        {
            var e = _header.GetProperty(name);
            Assert.Equal(dtype, e.GetProperty("dtype").GetString());
            var o = e.GetProperty("data_offsets");
            return (o[0].GetInt32(), o[1].GetInt32());
        }
    }

    static readonly Lazy<SafeTensors?> Data = new(SafeTensors.Open);

    SafeTensors? Golden()
    {
        if (Data.Value is null) output.WriteLine("golden file not found ($FSR_GOLDEN_DIR or shared/golden above the repository): nothing checked");
        return Data.Value;
    }

    [Fact]
    public void BilateralFilterOfTheDenseEnergyLoss_IsBitIdentical()
    {
        if (Golden() is not { } g) return;
        var shape = g.Shape("step0.reg.filter_in_prob");
        using var scope = torch.NewDisposeScope();
        var images = torch.tensor(g.Floats("step0.reg.filter_in_image"), g.Shape("step0.reg.filter_in_image"));
        var probs = torch.tensor(g.Floats("step0.reg.filter_in_prob"), shape);
        var ours = Bilateral.Filter(images, probs, 50f, 15f).ToArray();   // σ_xy 100 × scale 0.5, σ_rgb 15
        var expected = g.Floats("step0.reg.filter_out");
        Close.AssertClose(expected, ours, new Tolerance(0, 0), "permutohedral bilateral filter vs rloss", shape);
    }

    [Fact]
    public void DenseEnergyLoss()
    {
        if (Golden() is not { } g) return;
        using var scope = torch.NewDisposeScope();
        var images = torch.tensor(g.Floats("step0.reg.filter_in_image"), g.Shape("step0.reg.filter_in_image"));
        var probs = torch.tensor(g.Floats("step0.reg.filter_in_prob"), g.Shape("step0.reg.filter_in_prob"));
        // The pseudo labels at the loss's resolution: nearest ×0.5 of the (B, 96, 96) PAR labels.
        var labels = torch.tensor((ReadOnlySpan<int>)g.Ints("step0.cam.pseudo_label1"), g.Shape("step0.cam.pseudo_label1")).to(DType.Float32);
        var small = torch.nn.functional.interpolate(labels.unsqueeze(1), scale_factor: [0.5], mode: "nearest", recompute_scale_factor: true).squeeze(1);
        var loss = DenseEnergy.Loss(images, probs, small).ToArray();
        var expected = g.Floats("step0.loss.reg");
        output.WriteLine($"dense-energy loss {loss[0]:R}, reference {expected[0]:R}");
        Close.AssertClose(expected, loss, new Tolerance(0, 1e-5), "dense-energy loss (incl. its 1e-7 weight; README §7: relative 1e-5)");
    }

    [Theory]
    [InlineData("img0", "high")]
    [InlineData("img0", "low")]
    [InlineData("img1", "high")]
    [InlineData("img1", "low")]
    public void Par(string image, string level)
    {
        if (Golden() is not { } g) return;
        string prefix = $"step0.par.{image}.{level}.";
        using var scope = torch.NewDisposeScope();
        var img = torch.tensor(g.Floats(prefix + "in_image"), g.Shape(prefix + "in_image"));
        var prob = torch.tensor(g.Floats(prefix + "in_prob"), g.Shape(prefix + "in_prob"));
        var ours = FsrNative.Crf.Par.Refine(img, prob).ToArray();
        Close.AssertClose(g.Floats(prefix + "out_prob"), ours, new Tolerance(2e-6, 1e-5), $"PAR {image} {level}", g.Shape(prefix + "out_prob"));
    }
}
