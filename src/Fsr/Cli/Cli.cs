using System.CommandLine;
using FsrNative.Data;
using FsrNative.Data.Synthetic;
using FsrNative.Fsr.Demo;
using FsrNative.Fsr.Training;
using FsrNative.Weights;

namespace FsrNative.Fsr.Cli;

/// <summary>The <c>fsr</c> command line: verbs train, eval, infer, ablate, make-synthetic, demo (System.CommandLine; --help on each).</summary>
public static class Cli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("fsr — Progressive Feature Self-Reinforcement for weakly supervised semantic segmentation (AAAI 2024), on the FsrNative engine. `fsr <verb> --help` explains each verb's options.");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(InferCommand.Create());
        root.Subcommands.Add(AblateCommand.Create());
        root.Subcommands.Add(MakeSynthetic());
        root.Subcommands.Add(Demo());
        return root;
    }

    /// <summary>Runs a verb's action, turning the errors a user can fix (configuration, data, checkpoints) into one line and exit code 2.</summary>
    public static int Guarded(string verb, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is ConfigException or ArgumentException or DataException or CheckpointCorruptException or FileNotFoundException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine($"fsr {verb}: {e.Message}");
            return TrainCommand.BadInput;
        }
    }

    static Command MakeSynthetic()
    {
        var d = new SyntheticOptions();
        var outDir = new Option<string>("--out") { Description = "where to write it (must not exist yet)", Required = true, HelpName = "DIR" };
        var seed = new Option<ulong>("--seed") { Description = "generator seed", DefaultValueFactory = _ => d.Seed, HelpName = "N" };
        var train = new Option<int>("--train") { Description = "training images", DefaultValueFactory = _ => d.Train, HelpName = "N" };
        var val = new Option<int>("--val") { Description = "validation images", DefaultValueFactory = _ => d.Val, HelpName = "N" };
        var size = new Option<int>("--size") { Description = "image side in pixels", DefaultValueFactory = _ => d.Size, HelpName = "PX" };
        var sheet = new Option<string?>("--contact-sheet") { Description = "also write a contact sheet of the first val images", HelpName = "FILE.png" };
        var cmd = new Command("make-synthetic", "write the synthetic WSSS dataset in the PASCAL VOC layout (docs/synthetic-dataset.md)");
        foreach (var o in new Option[] { outDir, seed, train, val, size, sheet }) cmd.Options.Add(o);
        cmd.SetAction(r => Guarded("make-synthetic", () =>
        {
            var o = new SyntheticOptions { Seed = r.GetValue(seed), Train = r.GetValue(train), Val = r.GetValue(val), Size = r.GetValue(size) };
            o.Validate();
            return MakeSyntheticCommand.Run(new MakeSyntheticCommand.Options(r.GetValue(outDir)!, o, r.GetValue(sheet)));
        }));
        return cmd;
    }

    static Command Demo()
    {
        var device = new Option<string>("--device") { Description = "where to compute: cpu, cuda, cuda:N, auto, ilgpu-cpu", DefaultValueFactory = _ => "auto", HelpName = "auto|cpu|cuda[:N]|ilgpu-cpu" };
        var steps = new Option<int>("--steps") { Description = "training steps", DefaultValueFactory = _ => 300, HelpName = "N" };
        var seed = new Option<ulong>("--seed") { Description = "random seed", DefaultValueFactory = _ => 0UL, HelpName = "N" };
        var cmd = new Command("demo", "train a small classifier (3-class spirals, MLP with GELU and layer_norm, SGD) with the engine");
        foreach (var o in new Option[] { device, steps, seed }) cmd.Options.Add(o);
        cmd.SetAction(r => Guarded("demo", () =>
        {
            int n = r.GetValue(steps);
            if (n <= 0) throw new ArgumentException($"option --steps: '{n}' is not a positive integer");
            return EngineDemo.Run(new DemoOptions(Device.Parse(r.GetValue(device)!), n, r.GetValue(seed)));
        }));
        return cmd;
    }
}
