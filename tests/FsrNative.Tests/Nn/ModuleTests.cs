using FsrNative.Nn;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Nn;

/// <summary>
/// The module system's contract: names and order of parameters (timm's keys), state dicts and their errors,
/// train/eval, freezing, devices, ownership of tensors across dispose scopes, parameter counts.
/// </summary>
[Trait(Categories.Trait, NnCategory.Name)]
public class ModuleTests
{
    static readonly VitConfig Tiny = new() { ImgSize = 32, PatchSize = 8, EmbedDim = 12, Depth = 2, NumHeads = 3, NumClasses = 4 };

    [Fact]
    public void VisionTransformerHasTimmsKeysInTimmsOrder()
    {
        using var vit = new VisionTransformer(Tiny with { Depth = 1 });
        string[] block =
        [
            "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
            "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias",
        ];
        string[] expected =
        [
            "cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
            .. block.Select(k => "blocks.0." + k),
            "norm.weight", "norm.bias", "head.weight", "head.bias",
        ];
        Assert.Equal(expected, vit.state_dict().Keys);
        Assert.Equal(expected, vit.named_parameters().Select(p => p.name));
        Assert.Equal([1, 17, 12], vit.pos_embed.shape);
        Assert.Equal([12, 3, 8, 8], vit.patch_embed.proj.weight.shape);
        Assert.Equal([36, 12], vit.blocks[0].attn.qkv.weight.shape);
    }

    [Fact]
    public void ParameterCountsOfTheStandardVits()
    {
        // timm: vit_small_patch16_224 22,050,664 and vit_base_patch16_224 86,567,656 parameters.
        using var small = new VisionTransformer(VitConfig.Small16);
        Assert.Equal(22_050_664, small.num_parameters());
        long baseCount = 0;
        {
            using var b = new VisionTransformer(VitConfig.Base16 with { Depth = 1 });
            long perBlock = b.blocks[0].num_parameters();
            baseCount = b.num_parameters() + 11 * perBlock;
        }
        Assert.Equal(86_567_656, baseCount);
    }

    [Fact]
    public void StateDictRoundTripGivesTheSameFunction()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        using var a = new VisionTransformer(Tiny);
        torch.manual_seed(2);
        using var b = new VisionTransformer(Tiny);
        var x = torch.randn([2, 3, 32, 32]);
        a.eval(); b.eval();
        Assert.NotEqual(a.forward(x).ToArray(), b.forward(x).ToArray());
        b.load_state_dict(a.state_dict());
        Assert.Equal(a.forward(x).ToArray(), b.forward(x).ToArray());
        // Copied, not shared.
        Assert.False(ReferenceEquals(a.pos_embed.Storage, b.pos_embed.Storage));
    }

    [Fact]
    public void LoadStateDictReportsEveryFaultInOneError()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new VisionTransformer(Tiny);
        var sd = new Dictionary<string, Tensor>(model.state_dict());
        sd.Remove("norm.bias");
        sd.Remove("blocks.1.mlp.fc2.weight");
        sd["head.extra"] = torch.zeros(3);
        sd["pos_embed"] = torch.zeros(1, 10, 12);
        var before = model.norm.weight!.ToArray();
        sd["norm.weight"] = torch.full([12], 5f);

        var e = Assert.Throws<StateDictException>(() => model.load_state_dict(sd));
        Assert.Equal(["blocks.1.mlp.fc2.weight", "norm.bias"], e.Missing.Order());
        Assert.Equal(["head.extra"], e.Unexpected);
        Assert.Single(e.Mismatched);
        Assert.Contains("pos_embed", e.Mismatched[0]);
        Assert.Contains("[1, 10, 12]", e.Mismatched[0]);
        Assert.Contains("[1, 17, 12]", e.Mismatched[0]);
        Assert.Contains("Missing key(s) (2)", e.Message);
        Assert.Contains("Unexpected key(s) (1): head.extra", e.Message);
        Assert.Equal(before, model.norm.weight!.ToArray());   // nothing copied

        // Non-strict: missing/unexpected tolerated, a wrong shape is still an error.
        var e2 = Assert.Throws<StateDictException>(() => model.load_state_dict(sd, strict: false));
        Assert.Empty(e2.Missing);
        Assert.Single(e2.Mismatched);
        sd.Remove("pos_embed");
        var (missing, unexpected) = model.load_state_dict(sd, strict: false);
        Assert.Equal(3, missing.Count);
        Assert.Equal(["head.extra"], unexpected);
        Assert.All(model.norm.weight!.ToArray(), v => Assert.Equal(5f, v));
    }

    [Fact]
    public void TrainAndEvalReachEverySubmodule()
    {
        using var vit = new VisionTransformer(Tiny);
        Assert.All(vit.modules(), m => Assert.True(m.training));
        vit.eval();
        Assert.All(vit.modules(), m => Assert.False(m.training));
        vit.blocks[1].train();
        Assert.True(vit.blocks[1].mlp.drop1.training);
        Assert.False(vit.blocks[0].mlp.drop1.training);
    }

    [Fact]
    public void FrozenSubtreesGetNoGradientAndAreNotCounted()
    {
        using var scope = torch.NewDisposeScope();
        using var vit = new VisionTransformer(Tiny);
        long all = vit.num_parameters();
        vit.patch_embed.requires_grad_(false);
        vit.blocks[0].requires_grad_(false);
        long frozen = vit.patch_embed.num_parameters() + vit.blocks[0].num_parameters();
        Assert.Equal(all - frozen, vit.num_parameters(trainableOnly: true));
        vit.forward(torch.randn([2, 3, 32, 32])).sum().backward();
        Assert.Null(vit.patch_embed.proj.weight.grad);
        Assert.Null(vit.blocks[0].attn.qkv.weight.grad);
        Assert.NotNull(vit.blocks[1].attn.qkv.weight.grad);
        Assert.NotNull(vit.pos_embed.grad);
        vit.zero_grad();
        Assert.All(vit.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void ModulesOwnTheirTensorsAcrossDisposeScopes()
    {
        Linear lin;
        using (torch.NewDisposeScope())
        {
            lin = new Linear(3, 2);
        }
        Assert.False(lin.weight.IsDisposed);
        var w = lin.weight;
        lin.Dispose();
        Assert.True(w.IsDisposed);
    }

    sealed class TwoLayers : Module<Tensor, Tensor>
    {
        public readonly Linear first = new(4, 3);
        public readonly Linear second = new(3, 2);
        public Linear Shared => first;
        public TwoLayers() { RegisterComponents(); register_parameter("scale", torch.ones(2)); }
        public override Tensor forward(Tensor x) => second.forward(first.forward(x).relu()).mul(Param("scale"));
    }

    [Fact]
    public void RegisterComponentsFindsModuleFields()
    {
        using var m = new TwoLayers();
        Assert.Equal(["scale", "first.weight", "first.bias", "second.weight", "second.bias"], m.state_dict().Keys);
        Assert.Equal(["", "first", "second"], m.named_modules().Select(x => x.name));
        Assert.Equal(4 * 3 + 3 + 3 * 2 + 2 + 2, m.num_parameters());
    }

    [Fact]
    public void SharedParametersAreListedOnce()
    {
        using var outer = new Sequential(new Linear(3, 3));
        var inner = (Linear)outer[0];
        outer.register_module("again", inner);
        Assert.Equal(2, outer.parameters().Count());
        Assert.Equal(12, outer.num_parameters());
    }

    [Fact]
    public void MovingToAnotherDeviceAndBackKeepsValuesAndFunction()
    {
        using var scope = torch.NewDisposeScope();
        using var mlp = new Mlp(5, 7, 3);
        var before = mlp.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        var x = torch.randn([2, 5]);
        var y = mlp.forward(x).ToArray();
        mlp.fc1.requires_grad_(false);
        mlp.to(Device.IlgpuCpu);
        Assert.All(mlp.parameters(), p => Assert.Equal(Device.IlgpuCpu, p.device));
        Assert.False(mlp.fc1.weight.requires_grad);
        Assert.True(mlp.fc2.weight.requires_grad);
        var yDev = mlp.forward(x.to(Device.IlgpuCpu)).ToArray();
        Close.AssertClose(y, yDev, Tolerance.Float32, "Mlp on ilgpu-cpu");
        mlp.to(Device.CPU);
        foreach (var (k, v) in mlp.state_dict()) Assert.Equal(before[k], v.ToArray());
    }

    [Fact]
    public void ResizingThePositionEmbeddingKeepsTheClassSlotAndMatchesTheOnTheFlyResize()
    {
        using var scope = torch.NewDisposeScope();
        using var vit = new VisionTransformer(Tiny);
        vit.eval();
        var x = torch.randn([1, 3, 48, 40]);
        var onTheFly = vit.forward(x).ToArray();
        var cls = vit.pos_embed.narrow(1, 0, 1).ToArray();
        vit.resize_pos_embed(6, 5);
        Assert.Equal((6, 5), vit.pos_embed_grid);
        Assert.Equal([1, 31, 12], vit.pos_embed.shape);
        Assert.True(vit.pos_embed.requires_grad);
        Assert.Equal(cls, vit.pos_embed.narrow(1, 0, 1).ToArray());
        Close.AssertClose(onTheFly, vit.forward(x).ToArray(), Tolerance.Float32Tight, "after resize_pos_embed");
    }

    [Fact]
    public void StringSummaryNamesModulesAndShapes()
    {
        using var m = new Mlp(4, 8);
        var text = m.ToString();
        Assert.Contains("(fc1): Linear [weight[8, 4], bias[8]]", text);
        Assert.StartsWith("Mlp", text);
    }

    [Fact]
    public void RegistrationRejectsBadNamesAndNonLeaves()
    {
        using var scope = torch.NewDisposeScope();
        using var lin = new Linear(2, 2);
        Assert.Throws<ArgumentException>(() => lin.register_parameter("a.b", torch.zeros(1)));
        Assert.Throws<ArgumentException>(() => lin.register_buffer("weight", torch.zeros(1)));
        var leaf = torch.zeros([2], requires_grad: true);
        Assert.Throws<ArgumentException>(() => lin.register_parameter("derived", leaf.mul(2f)));
        Assert.Throws<ArgumentException>(() => lin.register_parameter("index", torch.full_int([2], 1)));
    }

    [Fact]
    public void NonPersistentBuffersStayOutOfTheStateDict()
    {
        using var lin = new Linear(2, 2);
        lin.register_buffer("running", torch.zeros(2));
        lin.register_buffer("scratch", torch.zeros(2), persistent: false);
        Assert.Contains("running", lin.state_dict().Keys);
        Assert.DoesNotContain("scratch", lin.state_dict().Keys);
        Assert.Equal(["running", "scratch"], lin.named_buffers().Select(b => b.name));
    }
}
