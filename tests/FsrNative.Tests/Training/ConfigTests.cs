using System.Text.Json.Nodes;
using FsrNative.Fsr.Training;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Training;

[Trait(Categories.Trait, TrainingCategory.Name)]
public class ConfigTests
{
    static string TempJson(string text)
    {
        string path = Path.Combine(TrainingFixture.NewOutFolder(), "config.json");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Presets_hold_the_paper_settings()
    {
        var voc = FsrPresets.Get("voc");
        Assert.Equal(20000, voc.Optim.MaxIters);
        Assert.Equal(1500, voc.Optim.WarmupIters);
        Assert.Equal(6e-5, voc.Optim.Lr);
        Assert.Equal(10, voc.Optim.LrScale);
        Assert.Equal(0.9995, voc.Fsr.Momentum);
        Assert.Equal(2000, voc.Losses.SegStart);
        Assert.Equal(0.7, voc.Cam.HighThre);
        Assert.Equal(21, voc.Data.NumClasses);
        Assert.Equal(448, voc.Data.InputSize);
        Assert.Equal(64, voc.Mask.BlockSize);
        var coco = FsrPresets.Get("coco");
        Assert.Equal(80000, coco.Optim.MaxIters);
        Assert.Equal((8000L, 12000L), (coco.Losses.SegStart!.Value, coco.Losses.AffStart));
        Assert.Equal((0.65, 0.45), (coco.Cam.HighThre, coco.Cam.BkgThre));
        Assert.Equal(("train", "val_part", 81), (coco.Data.TrainSplit, coco.Data.ValSplit, coco.Data.NumClasses));
        var syn = ConfigLoader.Load();
        Assert.Equal("synthetic", syn.Preset);
        Assert.Equal((64, 64, 8), (syn.Data.InputSize, syn.Data.SyntheticSize, syn.Model.PatchSize));
        Assert.Equal("vit_scratch", syn.Model.Backbone);
    }

    [Fact]
    public void Derived_settings_follow_max_iters_the_way_the_reference_derives_them()
    {
        var c = ConfigLoader.Load("synthetic", null, [new("optim.max_iters", "1000", "test")]);
        Assert.Equal(1000, c.Fsr.FsrIters);
        Assert.Equal(125, c.Fsr.TeacherTempWarmupIters);    // int(max_iters / 8)
        Assert.Equal(200, c.Mask.RandomIters);              // max_iters // 5
        Assert.Equal(75, c.Optim.WarmupIters);
        Assert.Equal(100, c.Losses.SegStart);
        Assert.Equal(100, c.Eval.Interval);
        Assert.Contains("synthetic-s0-64px-3000-100", c.Data.Root);
        // The voc preset fixes warm-up and stages (train_voc.py's absolute numbers) and derives the rest.
        var root = TrainingFixture.NewOutFolder();
        string weights = Path.Combine(root, "vit.safetensors");
        File.WriteAllBytes(weights, [0]);
        var v = ConfigLoader.Load("voc", null, [new("optim.max_iters", "10000", "t"), new("data.root", root, "t"), new("model.pretrained", weights, "t")]);
        Assert.Equal((1500L, 2000L, 1250L, 2000L), (v.Optim.WarmupIters!.Value, v.Losses.SegStart!.Value, v.Fsr.TeacherTempWarmupIters!.Value, v.Mask.RandomIters!.Value));
    }

    [Fact]
    public void Precedence_is_preset_then_json_file_then_command_line()
    {
        string file = TempJson("""
            {
              // comments are allowed
              "optim": { "lr": 0.002, "max_iters": 300 },
              "cam": { "cam_scales": [1.0, 2.0] },
              "run": { "seed": 7 },
            }
            """);
        var fromFile = ConfigLoader.Load(null, file);
        Assert.Equal(0.002, fromFile.Optim.Lr);
        Assert.Equal(300, fromFile.Optim.MaxIters);
        Assert.Equal([1.0, 2.0], fromFile.Cam.CamScales);
        Assert.Equal(7UL, fromFile.Run.Seed);
        Assert.Equal(FsrPresets.Get("synthetic").Data.BatchSize, fromFile.Data.BatchSize);   // untouched: the preset's

        var cli = ConfigLoader.Load(null, file, [new("optim.lr", "0.5", "--lr 0.5"), new("cam.cam_scales", "1,0.5", "--set"), new("run.seed", "9", "--seed 9")]);
        Assert.Equal(0.5, cli.Optim.Lr);
        Assert.Equal(300, cli.Optim.MaxIters);   // the file's
        Assert.Equal([1.0, 0.5], cli.Cam.CamScales);
        Assert.Equal(9UL, cli.Run.Seed);

        // The file may choose the preset; --preset wins over it.
        string cocoFile = TempJson("""{ "preset": "coco", "data": { "dataset": "synthetic", "num_classes": 7, "root": null }, "model": { "backbone": "vit_scratch" } }""");
        var coco = ConfigLoader.Load(null, cocoFile);
        Assert.Equal(("coco", 80000L, 0.65), (coco.Preset, coco.Optim.MaxIters, coco.Cam.HighThre));
        Assert.Equal("synthetic", ConfigLoader.Load("synthetic", cocoFile).Preset);
    }

    [Fact]
    public void Saved_config_loads_back_to_the_same_configuration()
    {
        var c = ConfigLoader.Load("synthetic", null, [new("optim.max_iters", "123", "t"), new("mask.strategy", "random", "t")]);
        string path = TempJson(ConfigLoader.Serialize(c));
        var back = ConfigLoader.Load(null, path);
        Assert.Equal(ConfigLoader.Serialize(c), ConfigLoader.Serialize(back));
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(123, json["optim"]!["max_iters"]!.GetValue<long>());
        Assert.Equal(15, json["fsr"]!["teacher_temp_warmup_iters"]!.GetValue<long>());   // derived values are written out
    }

    [Fact]
    public void Errors_name_the_setting_the_value_and_where_it_came_from()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, null, [new("optim.max_iters", "abc", "--steps abc")]));
        Assert.Contains("optim.max_iters = \"abc\" (from --steps abc): expected a whole number", e.Message);

        e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, null, [new("optim.max_iter", "5", "--set optim.max_iter=5")]));
        Assert.Contains("unknown setting 'optim.max_iter'", e.Message);
        Assert.Contains("max_iters", e.Message);   // the known keys are listed

        e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, TempJson("""{ "optim": { "lr": "fast" } }""")));
        Assert.Contains("optim.lr = \"fast\" (from config file", e.Message);
        Assert.Contains("expected a number", e.Message);

        e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, TempJson("""{ "losses": { "w_foo": 1 } }""")));
        Assert.Contains("unknown setting 'losses.w_foo'", e.Message);

        e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, TempJson("{ not json")));
        Assert.Contains("not valid JSON", e.Message);

        e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("nope"));
        Assert.Contains("preset = \"nope\"", e.Message);
    }

    [Fact]
    public void Validation_reports_every_bad_value_at_once()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("synthetic", null,
        [
            new("mask.ratio", "1.5", "t"), new("optim.betas", "0.9", "t"), new("data.batch_size", "0", "t"), new("run.device", "tpu", "t"),
            new("mask.block_size", "24", "t"), new("cam.low_thre", "0.9", "t"), new("optim.warmup_iters", "5000", "t"),
        ]));
        Assert.Contains("mask.ratio = 1.5: must be in (0, 1]", e.Message);
        Assert.Contains("optim.betas = [0.9]", e.Message);
        Assert.Contains("data.batch_size = 0", e.Message);
        Assert.Contains("run.device = \"tpu\"", e.Message);
        Assert.Contains("mask.block_size = 24", e.Message);
        Assert.Contains("cam.low_thre = 0.9", e.Message);
        Assert.Contains("optim.warmup_iters = 5000", e.Message);
        Assert.Equal(7, e.Problems.Count);

        // voc needs its data and its pretrained weights.
        e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("voc"));
        Assert.Contains(e.Problems, p => p.StartsWith("model.pretrained = null", StringComparison.Ordinal) && p.Contains("--pretrained"));
        Assert.Contains(e.Problems, p => p.StartsWith("data.root = null", StringComparison.Ordinal) && p.Contains("--data"));
    }

    [Fact]
    public void Set_assignments_parse_and_reject_malformed_text()
    {
        var o = ConfigOverride.FromAssignment("cam.par_dilations=1,2,4");
        Assert.Equal(("cam.par_dilations", "1,2,4"), (o.Path, o.Text));
        Assert.Equal([1, 2, 4], ConfigLoader.Load(null, null, [o]).Cam.ParDilations);
        Assert.Throws<ConfigException>(() => ConfigOverride.FromAssignment("no-equals-sign"));
        Assert.Equal("x y", ConfigLoader.Load(null, null, [ConfigOverride.FromAssignment("run.out=x y")]).Run.Out);
        Assert.False(ConfigLoader.Load(null, null, [ConfigOverride.FromAssignment("mask.enabled=false")]).Mask.Enabled);
    }
}
