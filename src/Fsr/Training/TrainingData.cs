using FsrNative.Data;
using FsrNative.Data.Loading;
using FsrNative.Data.Synthetic;
using FsrNative.Data.Transforms;

namespace FsrNative.Fsr.Training;

/// <summary>
/// The datasets and the training loader of a configuration: the synthetic dataset is generated at data.root on
/// first use (<see cref="SyntheticDataset.EnsureAt"/>; later runs reuse it), VOC and COCO are read from data.root.
/// The training loader gives two independently augmented views per image (fsr-spec §2.3), shuffled epochs keyed
/// by run.seed, incomplete batches dropped, restarting forever.
/// </summary>
public static class TrainingData
{
    public static SyntheticOptions SyntheticOptionsOf(DataConfig d) => new()
    {
        Seed = d.SyntheticSeed, Train = d.SyntheticTrain, Val = d.SyntheticVal, Size = d.SyntheticSize,
    };

    /// <summary>Opens split <paramref name="split"/> of the configured dataset (generating the synthetic one when needed).</summary>
    public static SegmentationDataset Open(FsrConfig c, string split, TextWriter? log = null)
    {
        var d = c.Data;
        string root = d.Root ?? throw new ConfigException(["data.root = null: resolve the configuration first"]);
        SegmentationDataset ds = d.Dataset switch
        {
            "synthetic" => VocDataset.Open(SyntheticDataset.EnsureAt(root, SyntheticOptionsOf(d), log), split, new DatasetOptions { Classes = SyntheticDataset.Classes }),
            "voc" => VocDataset.Open(root, split),
            "coco" => CocoDataset.Open(root, split),
            _ => throw new ConfigException([$"data.dataset = \"{d.Dataset}\": expected synthetic, voc or coco"]),
        };
        if (ds.Classes.NumLabels != d.NumClasses)
            throw new ConfigException([$"data.num_classes = {d.NumClasses}: the dataset at {root} has {ds.Classes.NumLabels} labels (background + {ds.Classes.NumClasses} classes)"]);
        return ds;
    }

    /// <summary>The training augmentation of the configuration (spec §2.3 at data.input_size).</summary>
    public static AugmentOptions AugmentOptionsOf(DataConfig d) => new()
    {
        Size = d.InputSize, ScaleMin = d.ScaleMin, ScaleMax = d.ScaleMax, FlipP = d.FlipP, JitterP = d.JitterP, BlurP = d.BlurP, SolarizeP = d.SolarizeP,
    };

    /// <summary>The endless two-view training loader, continuing at <paramref name="resume"/> when given.</summary>
    public static DataLoader TrainLoader(FsrConfig c, SegmentationDataset train, Device device, LoaderState? resume = null)
        => new(train, new TrainTransform(AugmentOptionsOf(c.Data), views: 2), new LoaderOptions
        {
            BatchSize = c.Data.BatchSize, Shuffle = true, DropLast = true, Seed = c.Run.Seed,
            Workers = c.Data.Workers ?? Math.Max(1, Environment.ProcessorCount - 1), Prefetch = c.Data.Prefetch, Device = device,
        }, resume);
}
