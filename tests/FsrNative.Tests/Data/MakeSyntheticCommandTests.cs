using FsrNative.Data;
using FsrNative.Fsr.Cli;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Data;

[Trait(Categories.Trait, DataCategory.Name)]
public class MakeSyntheticCommandTests
{
    [Fact]
    public void ParsesOptionsAndRejectsBadOnes()
    {
        var o = MakeSyntheticCommand.Parse(["--out", "d", "--seed", "5", "--train", "12", "--val", "3", "--size", "64"]);
        Assert.Equal("d", o.Out);
        Assert.Equal((5UL, 12, 3, 64), (o.Synthetic.Seed, o.Synthetic.Train, o.Synthetic.Val, o.Synthetic.Size));
        var d = MakeSyntheticCommand.Parse(["--out", "d"]).Synthetic;
        Assert.Equal((0UL, 3000, 300, 128), (d.Seed, d.Train, d.Val, d.Size));
        Assert.Contains("--out", Assert.Throws<ArgumentException>(() => MakeSyntheticCommand.Parse([])).Message);
        Assert.Contains("--train", Assert.Throws<ArgumentException>(() => MakeSyntheticCommand.Parse(["--out", "d", "--train", "0"])).Message);
        Assert.Contains("--size", Assert.Throws<ArgumentException>(() => MakeSyntheticCommand.Parse(["--out", "d", "--size", "x"])).Message);
        Assert.Contains("--bogus", Assert.Throws<ArgumentException>(() => MakeSyntheticCommand.Parse(["--out", "d", "--bogus"])).Message);
        Assert.Contains("needs a value", Assert.Throws<ArgumentException>(() => MakeSyntheticCommand.Parse(["--out"])).Message);
    }

    [Fact]
    public void WritesADatasetThroughTheExecutableEntryPoint()
    {
        string dir = Path.Combine(DataTestSupport.NewTempDir("cli"), "out");
        int rc = FsrNative.Fsr.Program.Main(["make-synthetic", "--out", dir, "--train", "3", "--val", "2", "--size", "48"]);
        Assert.Equal(0, rc);
        var ds = VocDataset.Open(dir, "val");
        Assert.Equal(2, ds.Count);
        Assert.Equal(2, FsrNative.Fsr.Program.Main(["make-synthetic", "--out", dir]));   // exists: refused
    }
}
