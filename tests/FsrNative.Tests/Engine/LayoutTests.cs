using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Engine;

using TT = TorchSharp.torch.Tensor;
using ts = TorchSharp.torch;

/// <summary>
/// Views, strides and reshape rules: every view shares storage and has exactly torch's shape, strides and storage
/// offset (compared with libtorch's as_strided metadata); view() refuses what torch refuses, reshape() copies
/// exactly when torch would; writes through a view land in the base.
/// </summary>
[Trait(Categories.Trait, EngineCategory.Name)]
public class LayoutTests
{
    static long[] L(int[] a) => Array.ConvertAll(a, v => (long)v);

    /// <summary>A chain of views from a contiguous base of 2·3·4·5 = 120 elements, applied in both engines.</summary>
    public sealed record Chain(Func<Tensor, Tensor> Ours, Func<TT, TT> Theirs);

    public static readonly Dictionary<string, Chain> Chains = new()
    {
        ["base"] = new(x => x, x => x),
        ["transpose"] = new(x => x.transpose(1, 3), x => x.transpose(1, 3)),
        ["permute"] = new(x => x.permute(3, 1, 0, 2), x => x.permute(3, 1, 0, 2)),
        ["narrow"] = new(x => x.narrow(2, 1, 2), x => x.narrow(2, 1, 2)),
        ["narrow_narrow"] = new(x => x.narrow(3, 1, 3).narrow(1, 2, 1), x => x.narrow(3, 1, 3).narrow(1, 2, 1)),
        ["select"] = new(x => x.select(1, 2), x => x.select(1, 2)),
        ["select_last"] = new(x => x.select(-1, -2), x => x.select(-1, 3)),
        ["unsqueeze_mid"] = new(x => x.unsqueeze(2), x => x.unsqueeze(2)),
        ["unsqueeze_end"] = new(x => x.unsqueeze(-1), x => x.unsqueeze(-1)),
        ["unsqueeze_of_transposed"] = new(x => x.transpose(0, 3).unsqueeze(1), x => x.transpose(0, 3).unsqueeze(1)),
        ["squeeze"] = new(x => x.narrow(1, 0, 1).squeeze(1), x => x.narrow(1, 0, 1).squeeze(1)),
        ["squeeze_all"] = new(x => x.narrow(0, 1, 1).narrow(2, 3, 1).squeeze(), x => x.narrow(0, 1, 1).narrow(2, 3, 1).squeeze()),
        ["expand"] = new(x => x.narrow(1, 1, 1).expand(2, 6, 4, 5), x => x.narrow(1, 1, 1).expand(2, 6, 4, 5)),
        ["expand_new_lead"] = new(x => x.select(0, 1).expand(3, 3, 4, 5), x => x.select(0, 1).expand(3, 3, 4, 5)),
        ["view_merge"] = new(x => x.view(6, 20), x => x.view(6, 20)),
        ["view_split"] = new(x => x.view(2, 3, 2, 2, 5), x => x.view(2, 3, 2, 2, 5)),
        ["view_of_narrowed_rows"] = new(x => x.narrow(1, 1, 2).view(2, 2, 20), x => x.narrow(1, 1, 2).view(2, 2, 20)),
        ["view_of_transposed_keeps_blocks"] = new(x => x.transpose(0, 1).view(3, 2, 20), x => x.transpose(0, 1).view(3, 2, 20)),
        ["view_size1_dims"] = new(x => x.narrow(0, 0, 1).view(1, 3, 1, 4, 5), x => x.narrow(0, 0, 1).view(1, 3, 1, 4, 5)),
        ["reshape_viewable"] = new(x => x.permute(0, 1, 3, 2).reshape(6, 5, 4), x => x.permute(0, 1, 3, 2).reshape(6, 5, 4)),
        ["flatten_inner"] = new(x => x.flatten(2), x => x.flatten(2)),
        ["t_of_2d"] = new(x => x.view(12, 10).t(), x => x.view(12, 10).t()),
        ["narrow_of_expand"] = new(x => x.select(1, 0).unsqueeze(1).expand(2, 7, 4, 5).narrow(1, 2, 3), x => x.select(1, 0).unsqueeze(1).expand(2, 7, 4, 5).narrow(1, 2, 3)),
    };

    public static TheoryData<string> ChainNames() => new(Chains.Keys);

    [Theory, MemberData(nameof(ChainNames))]
    public void ViewMetadataMatchesTorch(string name)
    {
        Torch.EnsureInitialized();
        using var scope = DisposeScope.Open();
        using var tscope = ts.NewDisposeScope();
        var values = Enumerable.Range(0, 120).Select(i => (float)i).ToArray();
        var ours = torch.tensor(values, 2, 3, 4, 5);
        var theirs = Torch.FromArray(values, 2, 3, 4, 5);
        var v = Chains[name].Ours(ours);
        var tv = Chains[name].Theirs(theirs);
        Assert.Equal(Torch.Shape(tv), v.shape);
        Assert.Equal(tv.stride(), Array.ConvertAll(v.stride(), s => (long)s));
        Assert.Equal(tv.storage_offset(), v.Offset);
        Assert.Equal(tv.is_contiguous(), v.is_contiguous());
        Assert.Same(ours.Storage, v.Storage);
        Assert.Equal(Torch.ToArray(tv), v.ToArray());
    }

    /// <summary>view() refuses layouts whose dims cannot be merged without a copy, like torch.</summary>
    [Theory]
    [InlineData("transposed_flatten")]
    [InlineData("narrowed_merge")]
    [InlineData("permuted_merge")]
    public void ViewRefusesWhatTorchRefuses(string name)
    {
        Torch.EnsureInitialized();
        using var scope = DisposeScope.Open();
        using var tscope = ts.NewDisposeScope();
        var x = torch.zeros(3, 4, 5);
        var tx = ts.zeros(3, 4, 5);
        (Func<Tensor>, Func<TT>) c = name switch
        {
            "transposed_flatten" => (() => x.transpose(0, 2).view(60), () => tx.transpose(0, 2).view(60)),
            "narrowed_merge" => (() => x.narrow(2, 1, 3).view(3, 12), () => tx.narrow(2, 1, 3).view(3, 12)),
            _ => (() => x.permute(1, 0, 2).view(12, 5), () => tx.permute(1, 0, 2).view(12, 5)),
        };
        Assert.ThrowsAny<Exception>(() => c.Item2());
        var ex = Assert.Throws<InvalidOperationException>(() => c.Item1());
        Assert.Contains("reshape", ex.Message);
    }

    /// <summary>reshape shares storage when a view is possible and copies otherwise, exactly like torch.</summary>
    [Theory]
    [InlineData(false, "contiguous")]
    [InlineData(false, "narrowed_rows")]
    [InlineData(true, "transposed")]
    [InlineData(true, "narrowed_cols")]
    [InlineData(true, "narrowed_middle")]
    public void ReshapeCopiesOnlyWhenNeeded(bool copies, string layout)
    {
        using var scope = DisposeScope.Open();
        var x = torch.arange(60).reshape(3, 4, 5);
        var v = layout switch
        {
            "contiguous" => x,
            "narrowed_rows" => x.narrow(0, 1, 2),
            "transposed" => x.transpose(1, 2),
            "narrowed_middle" => x.narrow(1, 1, 2),
            _ => x.narrow(2, 1, 3),
        };
        var r = v.reshape(-1);
        Assert.Equal(copies, !ReferenceEquals(r.Storage, x.Storage));
        Assert.Equal(v.contiguous().ToArray(), r.ToArray());
    }

    [Fact]
    public void WritesThroughViewsLandInTheBase()
    {
        using var scope = DisposeScope.Open();
        var x = torch.zeros(3, 4);
        x.t().narrow(0, 1, 2).select(1, 2).fill_(7f);   // x[2, 1:3] = 7
        x.narrow(0, 0, 1).expand(1, 4).squeeze(0).narrow(0, 3, 1).add_(torch.ones(1));
        var expected = new float[12];
        expected[2 * 4 + 1] = 7; expected[2 * 4 + 2] = 7; expected[3] = 1;
        Assert.Equal(expected, x.ToArray());
    }

    [Fact]
    public void ContiguityRules()
    {
        using var scope = DisposeScope.Open();
        var x = torch.zeros(3, 4);
        Assert.True(x.is_contiguous());
        Assert.False(x.t().is_contiguous());
        Assert.True(x.narrow(0, 1, 2).is_contiguous());        // rows: an offset only
        Assert.False(x.narrow(1, 1, 2).is_contiguous());
        Assert.True(x.narrow(0, 1, 1).t().is_contiguous());    // size-1 dims may have any stride
        Assert.False(x.narrow(1, 1, 1).t().is_contiguous());   // (1, 3) with strides (1, 4): torch agrees
        Assert.False(x.narrow(0, 0, 1).expand(3, 4).is_contiguous());
        Assert.True(torch.zeros(1, 4).expand(1, 4).is_contiguous());
        Assert.Same(x, x.contiguous());
        var c = x.t().contiguous();
        Assert.True(c.is_contiguous());
        Assert.NotSame(x.Storage, c.Storage);
        Assert.Equal([3, 1], c.stride());
    }

    [Fact]
    public void ShapeErrorsNameTheOpAndShapes()
    {
        using var scope = DisposeScope.Open();
        var x = torch.zeros(3, 4);
        Assert.Contains("shape [5, -1] is invalid", Assert.Throws<ArgumentException>(() => x.reshape(5, -1)).Message);
        Assert.Contains("do not broadcast", Assert.Throws<ArgumentException>(() => x.add(torch.zeros(3))).Message);
        Assert.Contains("cannot be multiplied", Assert.Throws<ArgumentException>(() => x.matmul(torch.zeros(3, 2))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.narrow(1, 3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.sum(2));
        Assert.Throws<ArgumentException>(() => x.permute(0, 0));
        Assert.Throws<ArgumentException>(() => x.expand(3, 5));
    }

    [Fact]
    public void CoalesceMergesWalkableDims()
    {
        var (shape, strides) = Shape.Coalesce([2, 3, 4], [12, 4, 1], [0, 4, 1]);
        Assert.Equal([2, 12], shape);
        Assert.Equal([12, 1], strides[0]);
        Assert.Equal([0, 1], strides[1]);
        var (s1, st1) = Shape.Coalesce([1, 1], [5, 7]);
        Assert.Equal([1], s1);
        Assert.Equal([0], st1[0]);
    }
}
