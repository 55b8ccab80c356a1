using System.Globalization;
using System.Text.Json;
using FsrNative.Fsr.Training;

namespace FsrNative.Tests.Golden;

/// <summary>
/// The golden file's <c>config</c> metadata (the reference's argparse values) as an <see cref="FsrConfig"/>: each
/// reference argument becomes the command-line override of its setting, on top of the voc preset (whose other
/// values are the reference's defaults). Arguments the file does not carry keep the reference defaults (e.g. the
/// teacher temperatures 0.04 → 0.07, which train_voc.py hard-codes). The model, input size, class count, thresholds and
/// mask settings come from the metadata too, so the FSR step can be built from it; the data root is a folder the
/// validator accepts (no dataset is read).
/// </summary>
public static class ScheduleGoldenConfig
{
    /// <summary>Reference argument → setting path.</summary>
    static readonly (string arg, string path)[] s_map =
    [
        ("max_iters", "optim.max_iters"), ("fsr_iters", "fsr.fsr_iters"), ("warmup_iters", "optim.warmup_iters"),
        ("warmup_ratio", "optim.warmup_ratio"), ("lr", "optim.lr"), ("lr_scale", "optim.lr_scale"), ("weight_decay", "optim.weight_decay"),
        ("betas", "optim.betas"), ("momentum", "fsr.momentum"), ("w_class", "fsr.w_class"), ("w_patch", "fsr.w_patch"),
        ("w_aff", "losses.w_aff"), ("w_seg", "losses.w_seg"), ("w_reg", "losses.w_reg"),
        ("high_thre", "cam.high_thre"), ("low_thre", "cam.low_thre"), ("bkg_thre", "cam.bkg_thre"), ("cam_scales", "cam.cam_scales"),
        ("mask_ratio", "mask.ratio"), ("block_size", "mask.block_size"), ("input_size", "data.input_size"), ("patch_size", "model.patch_size"),
        ("embed_dim", "model.embed_dim"), ("depth", "model.depth"), ("num_heads", "model.num_heads"), ("mlp_ratio", "model.mlp_ratio"),
        ("cls_depth", "model.cls_depth"), ("aux_layer", "model.aux_layer"), ("drop_path_rate", "model.drop_path_rate"),
        ("proj_hidden", "model.proj_hidden"), ("proj_bottleneck", "model.proj_bottleneck"), ("out_dim", "model.out_dim"),
        ("dec_channels", "model.dec_channels"), ("infer_scales", "eval.infer_scales"), ("seed", "run.seed"), ("batch", "data.batch_size"),
        ("num_classes", "data.num_classes"),
    ];

    public static FsrConfig From(JsonElement config)
    {
        var overrides = new List<ConfigOverride>
        {
            // No dataset is read: "voc" at an existing folder lets data.num_classes follow the metadata.
            new("model.backbone", "vit_scratch", "golden"), new("data.dataset", "voc", "golden"), new("data.root", Path.GetTempPath(), "golden"),
        };
        foreach (var (arg, path) in s_map)
            if (config.TryGetProperty(arg, out var v))
                overrides.Add(new ConfigOverride(path, v.ValueKind == JsonValueKind.Array
                    ? string.Join(",", v.EnumerateArray().Select(x => x.GetRawText()))
                    : v.GetRawText(), $"golden config {arg}"));
        return ConfigLoader.Load("voc", null, overrides);
    }

    /// <summary>The 0-based iterations of the golden training run (start_iter … start_iter + n_steps − 1).</summary>
    public static long[] Iterations(JsonElement config)
    {
        long start = config.GetProperty("start_iter").GetInt64();
        int n = config.GetProperty("n_steps").GetInt32();
        return Enumerable.Range(0, n).Select(i => start + i).ToArray();
    }

    public static string Show(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
