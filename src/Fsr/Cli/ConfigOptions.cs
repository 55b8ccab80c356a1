using System.CommandLine;
using FsrNative.Fsr.Training;

namespace FsrNative.Fsr.Cli;

/// <summary>
/// The configuration options shared by train, eval, infer and ablate. Each named option sets one setting of the
/// configuration (shown in its help); <c>--set SECTION.KEY=VALUE</c> sets any other. Values are given as text and
/// converted by the configuration loader, so a bad value is reported with the setting's name, the value and the
/// option it came from. Precedence: preset &lt; --config file &lt; these options.
/// </summary>
public sealed class ConfigOptions
{
    public Option<string?> Preset { get; } = new("--preset") { Description = "starting settings: synthetic (default; small ViT from scratch on the generated dataset), voc or coco (the paper's)", HelpName = "synthetic|voc|coco" };
    public Option<string?> Config { get; } = new("--config") { Description = "JSON file with any settings (sections model, data, optim, fsr, losses, cam, mask, eval, run; snake_case keys, as in a run's config.json); overrides the preset", HelpName = "FILE" };
    public Option<string[]> Set { get; } = new("--set") { Description = "set any setting, e.g. --set optim.lr=1e-4 --set cam.cam_scales=1,0.5,1.5 (repeatable; overrides --config)", HelpName = "SECTION.KEY=VALUE", Arity = ArgumentArity.ZeroOrMore };

    /// <summary>The named options and the setting each one sets.</summary>
    public IReadOnlyList<(Option<string?> option, string path)> Named { get; } =
    [
        (new("--device") { Description = "where to compute: auto (CUDA device 0 if there is one, else cpu), cpu, cuda, cuda:N (run.device)", HelpName = "auto|cpu|cuda[:N]" }, "run.device"),
        (new("--seed") { Description = "seed of the data order, augmentations and the trainer's random numbers (run.seed)", HelpName = "N" }, "run.seed"),
        (new("--out") { Description = "folder that holds the run folders (run.out, default runs)", HelpName = "DIR" }, "run.out"),
        (new("--name") { Description = "run folder name (run.name; default: a timestamp)", HelpName = "NAME" }, "run.name"),
        (new("--steps") { Description = "optimiser steps (optim.max_iters; derived settings such as warm-up follow when left unset)", HelpName = "N" }, "optim.max_iters"),
        (new("--batch-size") { Description = "images per micro-batch, each giving two views (data.batch_size)", HelpName = "N" }, "data.batch_size"),
        (new("--grad-accum") { Description = "micro-batches summed into one optimiser step (optim.grad_accumulation)", HelpName = "N" }, "optim.grad_accumulation"),
        (new("--precision") { Description = "matrix products of the training passes in fp32 (default) or bf16: bfloat16 operands, float32 accumulation, float32 weights and optimiser state (optim.mixed_precision)", HelpName = "fp32|bf16" }, "optim.mixed_precision"),
        (new("--lr") { Description = "base learning rate of the encoder groups; heads use lr × optim.lr_scale (optim.lr)", HelpName = "LR" }, "optim.lr"),
        (new("--data") { Description = "dataset root (data.root): VOC2012 folder for voc, COCO folder for coco; for synthetic, where it is generated on first use", HelpName = "DIR" }, "data.root"),
        (new("--pretrained") { Description = "timm ViT weights (.safetensors) for the encoder (model.pretrained)", HelpName = "FILE" }, "model.pretrained"),
        (new("--input-size") { Description = "training crop side in pixels (data.input_size)", HelpName = "PX" }, "data.input_size"),
        (new("--workers") { Description = "data loader threads (data.workers)", HelpName = "N" }, "data.workers"),
        (new("--checkpoint-every") { Description = "save a checkpoint every N steps, 0 = only at the end (run.checkpoint_interval)", HelpName = "N" }, "run.checkpoint_interval"),
        (new("--keep-checkpoints") { Description = "how many of the newest checkpoints to keep (run.keep_checkpoints)", HelpName = "N" }, "run.keep_checkpoints"),
        (new("--eval-every") { Description = "validate every N steps, 0 = only at the end (eval.interval)", HelpName = "N" }, "eval.interval"),
        (new("--log-every") { Description = "plain progress line every N steps (run.log_interval; metrics.jsonl has every step)", HelpName = "N" }, "run.log_interval"),
        (new("--progress") { Description = "auto (live display on a terminal, plain lines otherwise), live, plain or none (run.progress)", HelpName = "auto|live|plain|none" }, "run.progress"),
    ];

    public void AddTo(Command command)
    {
        command.Options.Add(Preset);
        command.Options.Add(Config);
        foreach (var (o, _) in Named) command.Options.Add(o);
        command.Options.Add(Set);
    }

    /// <summary>The command line's settings, in precedence order (named options, then --set in the order given).</summary>
    public List<ConfigOverride> Overrides(ParseResult r)
    {
        var list = new List<ConfigOverride>();
        foreach (var (o, path) in Named)
            if (r.GetValue(o) is string v) list.Add(new ConfigOverride(path, v, $"{o.Name} {v}"));
        foreach (var s in r.GetValue(Set) ?? []) list.Add(ConfigOverride.FromAssignment(s));
        return list;
    }

    /// <summary>The resolved, validated configuration of a fresh run.</summary>
    public FsrConfig Load(ParseResult r) => ConfigLoader.Load(r.GetValue(Preset), r.GetValue(Config), Overrides(r));
}
