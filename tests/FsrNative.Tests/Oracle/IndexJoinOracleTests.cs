using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Oracle;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

/// <summary>index_select, gather, scatter_add, one_hot, cat, stack, split, chunk.</summary>
[Trait(Categories.Trait, Categories.Oracle)]
public class IndexJoinOracleTests
{
    static Tolerance T(double atol, double rtol) => new(atol, rtol);
    static readonly Tolerance Exact = T(0, 0);
    /// <summary>Gradients that add several contributions (duplicate indices) in some order.</summary>
    static readonly Tolerance Adds = T(1e-6, 1e-5);

    [Theory]
    [InlineData("7x13", 0, 5, 7)]
    [InlineData("7x13", 1, 9, 13)]
    [InlineData("7x13", -1, 1, 13)]
    [InlineData("3x5x7", 1, 8, 5)]      // duplicates: 8 picks from 5
    [InlineData("3x5x7", 2, 3, 7)]
    [InlineData("33", 0, 12, 33)]
    [InlineData("5x7@t", 0, 4, 5)]
    [InlineData("5x7@n", 1, 6, 7)]
    [InlineData("4x6@e0", 0, 5, 4)]
    public void IndexSelect(string x, int dim, int k, int high)
    {
        OpCheck.Check($"index_select(dim={dim})", [x, In.Index(high, k)], t => t[0].index_select(dim, t[1]), t => t[0].index_select(dim, t[1]), Exact, Adds);
    }

    [Fact]
    public void IndexSelectWithFixedDuplicates()
    {
        OpCheck.Check("index_select(dups)", ["4x6", In.IndexOf([3, 0, 3, 3, 1], 5)], t => t[0].index_select(0, t[1]), t => t[0].index_select(0, t[1]), Exact, Adds);
    }

    /// <summary>gather: the index may be smaller than the input in the other dims (PyTorch's rule).</summary>
    [Theory]
    [InlineData("4x6", 1, "4x3", 6)]
    [InlineData("4x6", 0, "9x6", 4)]      // more picks than rows: duplicates
    [InlineData("5x6", 1, "3x4", 6)]      // index smaller in dim 0
    [InlineData("5x6", 0, "2x3", 5)]      // smaller in dim 1
    [InlineData("3x4x5", 1, "2x6x3", 4)]
    [InlineData("3x4x5", 2, "3x4x2", 5)]
    [InlineData("3x4x5", 0, "1x1x1", 3)]
    [InlineData("13", 0, "20", 13)]
    [InlineData("6x4@t", 1, "6x3", 4)]
    [InlineData("6x4@n", 0, "2x4", 6)]
    public void Gather(string x, int dim, string index, int high)
    {
        var idx = In.Index(high, In.Parse(index).Shape);
        OpCheck.Check($"gather(dim={dim})", [x, idx], t => t[0].gather(dim, t[1]), t => t[0].gather(dim, t[1]), Exact, Adds);
    }

    /// <summary>scatter_add with duplicate indices (contributions add up), index smaller than self in other dims.</summary>
    [Theory]
    [InlineData("5x6", 0, "8x6", 5, "8x6")]
    [InlineData("5x6", 1, "5x9", 6, "5x9")]
    [InlineData("5x6", 1, "3x4", 6, "3x4")]   // index smaller than self in dim 0
    [InlineData("5x6", 0, "4x2", 5, "4x2")]
    [InlineData("3x4x5", 1, "3x7x5", 4, "3x7x5")]
    [InlineData("13", 0, "30", 13, "30")]
    [InlineData("5x6@t", 0, "8x6", 5, "8x6@n")]
    public void ScatterAdd(string self, int dim, string index, int high, string src)
    {
        var idx = In.Index(high, In.Parse(index).Shape);
        OpCheck.Check($"scatter_add(dim={dim})", [self, idx, src], t => t[0].scatter_add(dim, t[1], t[2]),
            t => t[0].scatter_add(dim, t[1], t[2]), Adds, Adds);
    }

    [Fact]
    public void ScatterAddWithAllIndicesEqual()
    {
        OpCheck.Check("scatter_add(all to 2)", ["4x3", In.IndexOf(Enumerable.Repeat(2, 18).ToArray(), 6, 3), "6x3"],
            t => t[0].scatter_add(0, t[1], t[2]), t => t[0].scatter_add(0, t[1], t[2]), Adds, Adds);
    }

    [Theory]
    [InlineData(5, 7)]
    [InlineData(3, 2, 3)]
    [InlineData(1, 4)]
    public void OneHot(int classes, params int[] shape)
    {
        var idx = In.Index(classes, shape);
        OpCheck.Check($"one_hot({classes})", [idx], t => torch.nn.functional.one_hot(t[0], classes),
            t => F.one_hot(t[0], classes).to_type(ts.ScalarType.Float32), Exact, Exact);
    }

    [Fact]
    public void OneHotInfersClassCount()
    {
        var idx = In.IndexOf([0, 3, 1, 3], 2, 2);
        OpCheck.Check("one_hot(-1)", [idx], t => torch.nn.functional.one_hot(t[0]), t => F.one_hot(t[0]).to_type(ts.ScalarType.Float32), Exact, Exact);
    }

    // ---- cat / stack / split / chunk ---------------------------------------------------------------------------

    [Theory]
    [InlineData(0, "3x5", "4x5")]
    [InlineData(1, "3x5", "3x2", "3x7")]
    [InlineData(-1, "2x3x4", "2x3x1")]
    [InlineData(1, "2x3x4", "2x5x4")]
    [InlineData(0, "7", "13", "1")]
    [InlineData(0, "5x3@t", "2x3")]
    [InlineData(1, "4x6@n", "4x2@e0", "4x3@t")]
    [InlineData(0, "3x5")]
    public void Cat(int dim, params string[] shapes)
    {
        var inputs = shapes.Select(In.Parse).ToArray();
        OpCheck.Check($"cat(dim={dim})", inputs, t => torch.cat(t, dim), t => ts.cat(t, dim), Exact, Adds);
    }

    [Theory]
    [InlineData(0, "3x5", 3)]
    [InlineData(1, "3x5", 2)]
    [InlineData(2, "3x5", 2)]
    [InlineData(-1, "3x5", 4)]
    [InlineData(0, "()", 3)]
    [InlineData(1, "4x6@t", 2)]
    public void Stack(int dim, string shape, int count)
    {
        var inputs = Enumerable.Repeat(In.Parse(shape), count).ToArray();
        OpCheck.Check($"stack(dim={dim})", inputs, t => torch.stack(t, dim), t => ts.stack(t, dim), Exact, Exact);
    }

    [Theory]
    [InlineData("7x5", 3, 0)]
    [InlineData("7x5", 2, 1)]
    [InlineData("7x5", 7, 0)]
    [InlineData("7x5", 10, -1)]
    [InlineData("4x9@t", 4, 0)]
    public void SplitBySize(string shape, int size, int dim)
    {
        OpCheck.CheckMany($"split({size}, {dim})", [shape], t => t[0].split(size, dim), t => t[0].split(size, dim), Exact, Exact);
    }

    [Theory]
    [InlineData("7x5", 0, 2, 4, 1)]
    [InlineData("7x5", 1, 5)]
    [InlineData("7x5", 1, 0, 3, 2)]
    [InlineData("3x4x6@p", 2, 1, 5)]
    public void SplitBySizes(string shape, int dim, params int[] sizes)
    {
        var l = Array.ConvertAll(sizes, v => (long)v);
        OpCheck.CheckMany($"split([{string.Join(",", sizes)}], {dim})", [shape], t => t[0].split(sizes, dim), t => t[0].split(l, dim), Exact, Exact);
    }

    [Theory]
    [InlineData("7x5", 3, 0)]
    [InlineData("7x5", 2, 1)]
    [InlineData("6x5", 4, 0)]   // ceil(6/4) = 2 → 3 chunks, as torch
    [InlineData("7x5", 7, 0)]
    [InlineData("7x5", 1, 1)]
    [InlineData("5x7@t", 3, 1)]
    public void Chunk(string shape, int chunks, int dim)
    {
        OpCheck.CheckMany($"chunk({chunks}, {dim})", [shape], t => t[0].chunk(chunks, dim), t => t[0].chunk(chunks, dim), Exact, Exact);
    }

    /// <summary>Only some outputs of a split are used: the others get no gradient (zeros in the input's gradient).</summary>
    [Fact]
    public void SplitPartiallyUsed()
    {
        OpCheck.Check("split(3)[1].exp()", ["8x4"], t => t[0].split(3, 0)[1].exp(), t => t[0].split(3, 0)[1].exp(), T(1e-6, 1e-5), T(1e-6, 1e-5));
    }
}
