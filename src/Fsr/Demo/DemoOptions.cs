using System.Globalization;

namespace FsrNative.Fsr.Demo;

/// <summary>Options of <c>fsr demo</c>; unknown or malformed options are errors naming the option and value.</summary>
public sealed record DemoOptions(Device Device, int Steps, ulong Seed)
{
    public static DemoOptions Parse(string[] args)
    {
        var device = Device.Parse("auto");
        int steps = 300;
        ulong seed = 0;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option {name} needs a value");
            switch (name)
            {
                case "--device": device = Device.Parse(Value()); break;
                case "--steps":
                    {
                        string v = Value();
                        if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out steps) || steps <= 0)
                            throw new ArgumentException($"option --steps: '{v}' is not a positive integer");
                        break;
                    }
                case "--seed":
                    {
                        string v = Value();
                        if (!ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out seed))
                            throw new ArgumentException($"option --seed: '{v}' is not a non-negative integer");
                        break;
                    }
                default: throw new ArgumentException($"demo: unknown option '{name}' (see fsr --help)");
            }
        }
        return new DemoOptions(device, steps, seed);
    }
}
