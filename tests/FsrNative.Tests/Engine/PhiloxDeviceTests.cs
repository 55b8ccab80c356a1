using FsrNative.Kernels.Random;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Engine;

/// <summary>Philox4x32-10 against the Random123 known-answer vectors, and the determinism of the random ops built on it.</summary>
[Trait(Categories.Trait, EngineCategory.Name)]
public class PhiloxTests
{
    /// <summary>kat_vectors of Random123 (Salmon et al., SC 2011) for philox4x32 with 10 rounds.</summary>
    [Theory]
    [InlineData(0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void KnownAnswerVectors(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint r0, uint r1, uint r2, uint r3)
    {
        Philox.Rounds(ref c0, ref c1, ref c2, ref c3, k0, k1);
        Assert.Equal([r0, r1, r2, r3], new[] { c0, c1, c2, c3 });
    }

    /// <summary>Word(seed, stream, block, lane) is the documented counter layout (block lo/hi, stream lo/hi) and key (seed lo/hi).</summary>
    [Fact]
    public void WordUsesTheDocumentedCounterAndKey()
    {
        ulong seed = 0x299f31d0a4093822UL, stream = 0x0370734413198a2eUL, block = 0x85a308d3243f6a88UL;
        Assert.Equal(0xd16cfe09u, Philox.Word(seed, stream, block, 0));
        Assert.Equal(0x94fdccebu, Philox.Word(seed, stream, block, 1));
        Assert.Equal(0x5001e420u, Philox.Word(seed, stream, block, 2));
        Assert.Equal(0x24126ea1u, Philox.Word(seed, stream, block, 3));
    }

    [Fact]
    public void UniformAndNormalElementsArePureFunctions()
    {
        Assert.Equal(Philox.Uniform(1, 2, 12345), Philox.Uniform(1, 2, 12345));
        Assert.NotEqual(Philox.Uniform(1, 2, 12345), Philox.Uniform(1, 3, 12345));
        Assert.NotEqual(Philox.Uniform(1, 2, 12345), Philox.Uniform(2, 2, 12345));
        Assert.Equal(Philox.ToUniform(Philox.Word(1, 2, 12345 / 4, 12345 % 4)), Philox.Uniform(1, 2, 12345));
        Assert.InRange(Philox.ToUniform(uint.MaxValue), 0f, 0.99999995f);
        Assert.Equal(0f, Philox.ToUniform(0));
        Assert.Equal(1f, Philox.ToUniformOpenZero(uint.MaxValue));
        Assert.True(Philox.ToUniformOpenZero(0) > 0f);
        Assert.Equal(Philox.Normal(9, 4, 77), Philox.Normal(9, 4, 77));
    }

    /// <summary>The tensor ops draw element i of stream s from Philox directly: same seed and stream → same values.</summary>
    [Fact]
    public void TensorDrawsAreThePhiloxStream()
    {
        using var scope = DisposeScope.Open();
        var g = new Generator(42);
        var u = torch.rand([10], g).ToArray();
        var n = torch.randn([10], g).ToArray();
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(Philox.Uniform(42, 0, i), u[i]);
            Assert.Equal(Philox.Normal(42, 1, i), n[i]);
        }
        Assert.Equal((42UL, 2UL), g.get_state());
        var again = new Generator(42);
        Assert.Equal(u, torch.rand([10], again).ToArray());
        Assert.Equal(n, torch.randn([10], again).ToArray());
    }
}

/// <summary>Device.Parse on every spelling, and on bad input.</summary>
[Trait(Categories.Trait, EngineCategory.Name)]
public class DeviceTests
{
    [Theory]
    [InlineData("cpu", DeviceType.Cpu, 0)]
    [InlineData("CPU", DeviceType.Cpu, 0)]
    [InlineData("  cpu ", DeviceType.Cpu, 0)]
    [InlineData("cuda", DeviceType.Cuda, 0)]
    [InlineData("CUDA", DeviceType.Cuda, 0)]
    [InlineData("cuda:0", DeviceType.Cuda, 0)]
    [InlineData("cuda:3", DeviceType.Cuda, 3)]
    [InlineData("Cuda:12", DeviceType.Cuda, 12)]
    [InlineData("ilgpu-cpu", DeviceType.IlgpuCpu, 0)]
    [InlineData("ILGPU-CPU", DeviceType.IlgpuCpu, 0)]
    public void ParsesEverySpelling(string text, DeviceType type, int index)
    {
        Assert.Equal(new Device(type, index), Device.Parse(text));
    }

    [Fact]
    public void AutoIsCudaWhenThereIsAGpuElseCpu()
    {
        var expected = Backends.CudaDeviceCount() > 0 ? Device.Cuda(0) : Device.CPU;
        Assert.Equal(expected, Device.Parse("auto"));
        Assert.Equal(expected, Device.Parse("AUTO"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("gpu")]
    [InlineData("cpu:0")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:+1")]
    [InlineData("cuda:x")]
    [InlineData("cuda:1.5")]
    [InlineData("cuda: 1")]
    [InlineData("cuda:99999999999")]
    [InlineData("cuda0")]
    [InlineData("ilgpu")]
    public void RejectsBadInputNamingIt(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => Device.Parse(text));
        Assert.Contains($"'{text}'", ex.Message);
    }

    [Fact]
    public void RejectsNull() => Assert.Throws<ArgumentNullException>(() => Device.Parse(null!));

    [Theory]
    [InlineData("cpu")]
    [InlineData("cuda:0")]
    [InlineData("cuda:7")]
    [InlineData("ilgpu-cpu")]
    public void ToStringRoundTrips(string text)
    {
        Assert.Equal(text, Device.Parse(text).ToString());
        Assert.Equal(Device.Parse(text), Device.Parse(Device.Parse(text).ToString()));
    }

    [Fact]
    public void TensorsLiveOnTheCpuByDefault()
    {
        using var scope = DisposeScope.Open();
        var x = torch.zeros(2);
        Assert.Equal(Device.CPU, x.device);
        Assert.True(x.device.IsCpu);
        Assert.Same(x, x.cpu());
    }
}
