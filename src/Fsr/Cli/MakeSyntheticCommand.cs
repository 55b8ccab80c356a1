using System.Globalization;
using FsrNative.Data;
using FsrNative.Data.Synthetic;

namespace FsrNative.Fsr.Cli;

/// <summary>
/// <c>fsr make-synthetic --out DIR [--seed N] [--train N] [--val N] [--size N] [--contact-sheet FILE.png]</c>:
/// writes the synthetic dataset (see docs/synthetic-dataset.md). Parsing is kept here, apart from Program.cs, so
/// it can move to System.CommandLine with the other verbs.
/// </summary>
public static class MakeSyntheticCommand
{
    public const string Usage = """
          make-synthetic  write the synthetic WSSS dataset in the PASCAL VOC layout (docs/synthetic-dataset.md)
                  --out DIR                                  where to write it (must not exist yet)
                  --seed N                                   generator seed (default: 0)
                  --train N                                  training images (default: 3000)
                  --val N                                    validation images (default: 300)
                  --size N                                   image side in pixels (default: 128)
                  --contact-sheet FILE.png                   also write a contact sheet of the first val images
        """;

    public sealed record Options(string Out, SyntheticOptions Synthetic, string? ContactSheet);

    public static Options Parse(string[] args)
    {
        string? outDir = null, sheet = null;
        var o = new SyntheticOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option {name} needs a value");
            int Int(string v, int min) => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int r) && r >= min
                ? r : throw new ArgumentException($"option {name}: '{v}' is not an integer ≥ {min}");
            switch (name)
            {
                case "--out": outDir = Value(); break;
                case "--seed":
                    {
                        string v = Value();
                        if (!ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed))
                            throw new ArgumentException($"option --seed: '{v}' is not a non-negative integer");
                        o = o with { Seed = seed };
                        break;
                    }
                case "--train": o = o with { Train = Int(Value(), 1) }; break;
                case "--val": o = o with { Val = Int(Value(), 1) }; break;
                case "--size": o = o with { Size = Int(Value(), 32) }; break;
                case "--contact-sheet": sheet = Value(); break;
                default: throw new ArgumentException($"make-synthetic: unknown option '{name}' (see fsr --help)");
            }
        }
        if (outDir is null) throw new ArgumentException("make-synthetic: --out DIR is required");
        o.Validate();
        return new Options(outDir, o, sheet);
    }

    public static int Run(Options options)
    {
        string dir = Path.GetFullPath(options.Out);
        if (Directory.Exists(dir)) throw new ArgumentException($"make-synthetic: '{dir}' already exists; choose a new folder");
        var o = options.Synthetic;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"writing {o.Train} train + {o.Val} val images of {o.Size}x{o.Size} (seed {o.Seed}) to {dir}"));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        SyntheticDataset.EnsureAt(dir, o, Console.Out);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done in {sw.Elapsed.TotalSeconds:F1} s"));
        if (options.ContactSheet is not null)
        {
            File.WriteAllBytes(options.ContactSheet, SyntheticDataset.ContactSheet(o.Seed, SyntheticDataset.ValSplit, 16, o.Size));
            Console.WriteLine($"contact sheet: {Path.GetFullPath(options.ContactSheet)}");
        }
        return 0;
    }
}
