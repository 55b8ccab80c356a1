using FsrNative.Data;
using FsrNative.Fsr.Cli;
using FsrNative.Fsr.Demo;

namespace FsrNative.Fsr;

/// <summary>
/// The <c>fsr</c> executable. Its verb <c>demo</c> trains a small network with the engine to
/// show the whole path (forward, loss, backward, update) working on a chosen device; the FSR verbs (train, eval,
/// infer, ablate) arrive with the trainer; <c>make-synthetic</c> writes the synthetic dataset.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 1 : 0;
        }
        try
        {
            return args[0] switch
            {
                "demo" => EngineDemo.Run(DemoOptions.Parse(args[1..])),
                "make-synthetic" => MakeSyntheticCommand.Run(MakeSyntheticCommand.Parse(args[1..])),
                _ => Fail($"unknown verb '{args[0]}'.\n\n{Usage}"),
            };
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }
        catch (DataException e)
        {
            return Fail(e.Message);
        }
    }

    static int Fail(string message)
    {
        Console.Error.WriteLine($"fsr: {message}");
        return 2;
    }

    const string Usage = """
        usage: fsr <verb> [options]

        verbs:
          demo    train a small classifier (3-class spirals, MLP with GELU and layer_norm, SGD) with the engine
                  --device cpu|cuda|cuda:N|auto|ilgpu-cpu   where to compute (default: auto)
                  --steps N                                  training steps (default: 300)
                  --seed N                                   random seed (default: 0)
        """ + "\n" + MakeSyntheticCommand.Usage;
}
