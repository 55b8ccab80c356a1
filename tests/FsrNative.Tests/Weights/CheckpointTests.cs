using FsrNative.Nn;
using FsrNative.Optim;
using FsrNative.Tests.Infrastructure;
using FsrNative.Weights;

namespace FsrNative.Tests.Weights;

/// <summary>
/// Training checkpoints: save → load → continue gives bit-identical parameters, teacher, optimiser state and
/// random streams to an uninterrupted run on the CPU backend (a small ViT with dropout and drop-path active, an
/// EMA teacher, AdamW with two groups, a warm-up cosine schedule, a data generator and a data permutation);
/// corrupt, truncated or foreign files give a clear error; a failed save leaves the last good one intact; only
/// the last N are kept.
/// </summary>
[Trait(Categories.Trait, WeightsCategory.Name)]
public sealed class CheckpointTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("fsr-ckpt-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly VitConfig Cfg = new()
    {
        ImgSize = 16, PatchSize = 8, EmbedDim = 16, Depth = 2, NumHeads = 2, NumClasses = 3,
        DropPathRate = 0.3f, ProjDropRate = 0.1f,
    };
    const int Total = 6, Half = 3;

    /// <summary>One training run's live objects, built from <paramref name="initSeed"/>.</summary>
    sealed class Run : IDisposable
    {
        public readonly Generator ModelGen, DataGen = new(200);
        public readonly VisionTransformer Student, Teacher;
        public readonly AdamW Optimizer;
        public readonly LRScheduler Schedule;
        public long[] Order = [];
        public long Epoch, Position;

        /// <summary>Initial weights and the dropout/drop-path masks both come from ModelGen, seeded here.</summary>
        public Run(ulong initSeed)
        {
            ModelGen = new Generator(initSeed);
            Student = new VisionTransformer(Cfg, generator: ModelGen);
            Teacher = new VisionTransformer(Cfg, generator: ModelGen);
            Ema.copy_(Teacher, Student);
            var decay = Student.named_parameters().Where(p => p.parameter.dim() > 1 && p.name != "pos_embed").Select(p => p.parameter);
            var noDecay = Student.named_parameters().Where(p => p.parameter.dim() <= 1 || p.name == "pos_embed").Select(p => p.parameter);
            Optimizer = new AdamW([new ParamGroup(noDecay, lr: 1e-3, weight_decay: 0), new ParamGroup(decay, lr: 1e-2, weight_decay: 0.05)]);
            Schedule = new LRScheduler(Optimizer, new WarmupCosineSchedule(2, 0.1, Total));
        }

        public void Step(long s)
        {
            using var scope = torch.NewDisposeScope();
            if (Position == 0 || Position >= Order.Length)
            {
                // Data order: a permutation per epoch drawn from DataGen.
                var keys = torch.rand([8], DataGen).ToArray();
                Order = Enumerable.Range(0, 8).OrderBy(i => keys[i]).Select(i => (long)i).ToArray();
                Position = 0;
                Epoch++;
            }
            long sample = Order[Position++];
            var x = torch.randn([2, 3, 16, 16], DataGen).add((float)sample);
            Schedule.set_step(s);
            Optimizer.zero_grad();
            Student.forward(x).square().mean().backward();
            GradClip.clip_grad_norm_(Student.parameters(), 1.0);
            Optimizer.step();
            Ema.update_(Teacher, Student, new CosineMomentumSchedule(0.9, 1.0, Total).Value(s));
        }

        public TrainingState Capture(long step) => TrainingState.Capture(step,
            models: new Dictionary<string, Module> { ["student"] = Student, ["teacher"] = Teacher },
            optimizers: new Dictionary<string, FsrNative.Optim.Optimizer> { ["optimizer"] = Optimizer },
            schedules: new Dictionary<string, LRScheduler> { ["lr"] = Schedule },
            generators: new Dictionary<string, Generator> { ["model"] = ModelGen, ["data"] = DataGen },
            data: new Dictionary<string, string> { ["epoch"] = Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture), ["position"] = Position.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            arrays: new Dictionary<string, long[]> { ["order"] = Order });

        public void Restore(TrainingState st)
        {
            st.Restore(
                models: new Dictionary<string, Module> { ["student"] = Student, ["teacher"] = Teacher },
                optimizers: new Dictionary<string, FsrNative.Optim.Optimizer> { ["optimizer"] = Optimizer },
                schedules: new Dictionary<string, LRScheduler> { ["lr"] = Schedule },
                generators: new Dictionary<string, Generator> { ["model"] = ModelGen, ["data"] = DataGen });
            Epoch = long.Parse(st.Data["epoch"], System.Globalization.CultureInfo.InvariantCulture);
            Position = long.Parse(st.Data["position"], System.Globalization.CultureInfo.InvariantCulture);
            Order = st.Arrays["order"];
        }

        public void Dispose() { Student.Dispose(); Teacher.Dispose(); Optimizer.Dispose(); }
    }

    [Fact]
    public void SaveLoadContinueIsBitIdenticalToAnUninterruptedRun()
    {
        using var a = new Run(100);
        for (long s = 0; s < Total; s++) a.Step(s);

        var manager = new CheckpointManager(Path.Combine(_dir, "run"), keepLast: 2);
        using (var b = new Run(100))
        {
            for (long s = 0; s < Half; s++) b.Step(s);
            manager.Save(b.Capture(Half));
        }
        using var c = new Run(999);   // different initial weights: everything must come from the checkpoint
        TrainingState loaded;
        using (var scope = torch.NewDisposeScope())
        {
            loaded = manager.LoadLatest(out var skipped)!;
            Assert.Empty(skipped);
            Assert.Equal(Half, loaded.Step);
            c.Restore(loaded);
        }
        for (long s = Half; s < Total; s++) c.Step(s);

        foreach (var (name, p) in a.Student.named_parameters())
            Assert.True(p.ToArray().SequenceEqual(c.Student.state_dict()[name].ToArray()), $"student {name} differs after resume");
        foreach (var (name, p) in a.Teacher.named_parameters())
            Assert.True(p.ToArray().SequenceEqual(c.Teacher.state_dict()[name].ToArray()), $"teacher {name} differs after resume");
        var sa = a.Optimizer.state_dict();
        var sc = c.Optimizer.state_dict();
        foreach (var (index, st) in sa.state)
        {
            Assert.Equal(st.step, sc.state[index].step);
            foreach (var (k, t) in st.tensors) Assert.Equal(t.ToArray(), sc.state[index].tensors[k].ToArray());
        }
        Assert.Equal(a.ModelGen.get_state(), c.ModelGen.get_state());
        Assert.Equal(a.DataGen.get_state(), c.DataGen.get_state());
        Assert.Equal(a.Optimizer.param_groups.Select(g => g.lr), c.Optimizer.param_groups.Select(g => g.lr));
        Assert.Equal(a.Schedule.last_step, c.Schedule.last_step);
    }

    static TrainingState SmallState(long step)
    {
        var lin = new Linear(3, 2);
        return TrainingState.Capture(step, models: new Dictionary<string, Module> { ["m"] = lin },
            generators: new Dictionary<string, Generator> { ["g"] = new Generator(5) },
            data: new Dictionary<string, string> { ["note"] = "ok" });
    }

    [Fact]
    public void CorruptionAnywhereIsDetected()
    {
        string path = Path.Combine(_dir, "c.safetensors");
        Checkpoint.Save(path, SmallState(7));
        var good = File.ReadAllBytes(path);
        using (torch.NewDisposeScope()) Assert.Equal(7, Checkpoint.Load(path).Step);

        // A flipped bit in the data, in the step number of the metadata, and a truncation.
        var cases = new List<(string what, byte[] bytes, string fault)>();
        var d = (byte[])good.Clone(); d[^3] ^= 0x10; cases.Add(("data bit", d, "checksum mismatch"));
        var h = (byte[])good.Clone();
        int stepAt = System.Text.Encoding.ASCII.GetString(good).IndexOf("\\u0022Step\\u0022:7", StringComparison.Ordinal);
        if (stepAt < 0) stepAt = System.Text.Encoding.ASCII.GetString(good).IndexOf("Step\\\":7", StringComparison.Ordinal);
        Assert.True(stepAt > 0, "step not found in the header");
        int seven = Array.IndexOf(good, (byte)'7', stepAt);
        h[seven] = (byte)'8'; cases.Add(("metadata digit", h, "checksum mismatch"));
        cases.Add(("truncated", good[..(good.Length - 5)], "truncated or malformed"));
        cases.Add(("empty", [], "truncated or malformed"));
        foreach (var (what, bytes, fault) in cases)
        {
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<CheckpointCorruptException>(() => Checkpoint.Load(path));
            Assert.Contains(fault, e.Message);
            Assert.Contains(path, e.Message);
        }

        // A valid safetensors file that is not a checkpoint.
        using (torch.NewDisposeScope())
            Safetensors.save_file(new Dictionary<string, Tensor> { ["x"] = torch.ones(2) }, path);
        Assert.Contains("not an FsrNative training checkpoint", Assert.Throws<CheckpointCorruptException>(() => Checkpoint.Load(path)).Message);
    }

    [Fact]
    public void AFailedSaveLeavesTheLastGoodCheckpointAndNoTemporaryFile()
    {
        var manager = new CheckpointManager(Path.Combine(_dir, "fail"), keepLast: 3);
        manager.Save(SmallState(1));
        string good = manager.PathFor(1);
        var before = File.ReadAllBytes(good);

        var lin = new Linear(3, 2);
        var broken = TrainingState.Capture(1, models: new Dictionary<string, Module> { ["m"] = lin });
        lin.Dispose();   // its tensors are gone: writing fails half-way
        Assert.ThrowsAny<ObjectDisposedException>(() => manager.Save(broken));
        Assert.Equal(before, File.ReadAllBytes(good));
        Assert.Single(Directory.GetFiles(manager.Folder));
    }

    [Fact]
    public void KeepsTheLastNAndFallsBackPastACorruptNewest()
    {
        var manager = new CheckpointManager(Path.Combine(_dir, "keep"), keepLast: 2);
        foreach (long s in new long[] { 10, 20, 30, 40 }) manager.Save(SmallState(s));
        Assert.Equal([30L, 40L], manager.List().Select(x => x.step));

        var newest = manager.PathFor(40);
        var bytes = File.ReadAllBytes(newest);
        File.WriteAllBytes(newest, bytes[..(bytes.Length / 2)]);
        Assert.Throws<CheckpointCorruptException>(() => manager.LoadLatest(out _));
        using var scope = torch.NewDisposeScope();
        var st = manager.LoadLatest(out var skipped, fallBack: true)!;
        Assert.Equal(30, st.Step);
        Assert.Single(skipped);
        Assert.Equal((5UL, 0UL), st.Generators["g"]);
        Assert.Equal("ok", st.Data["note"]);

        // A stale temporary file from a crashed write is removed by the next manager; good files are not.
        File.WriteAllText(Path.Combine(manager.Folder, ".ckpt-000000050.safetensors.tmp-abc"), "partial");
        var again = new CheckpointManager(manager.Folder, keepLast: 2);
        Assert.Equal(2, Directory.GetFiles(again.Folder).Length);
    }
}
