using System.Diagnostics;
using F = FsrNative.torch.nn.functional;

namespace FsrNative.Fsr.Demo;

/// <summary>
/// A small end-to-end run of the engine: three interleaved spirals (a classic non-linearly-separable problem),
/// an MLP 2 → 64 → 64 → 3 with layer_norm and GELU, cross-entropy from log_softmax + gather, plain SGD with
/// momentum under no_grad. Each step runs in a dispose scope, so memory stays flat; the allocator statistics are
/// printed at the end.
/// </summary>
public static class EngineDemo
{
    public static int Run(DemoOptions o)
    {
        Console.WriteLine($"fsr demo: device {o.Device}, {o.Steps} steps, seed {o.Seed}");
        var gen = new Generator(o.Seed);
        var (x, y) = Spirals(points: 3 * 256, gen, o.Device);

        var parameters = new List<Tensor>();
        Tensor Param(int[] shape, float std)
        {
            var p = torch.trunc_normal(shape, 0f, std, -2 * std, 2 * std, gen, o.Device, requires_grad: true);
            parameters.Add(p);
            return p;
        }
        var w1 = Param([64, 2], 0.5f); var b1 = Param([64], 0.01f);
        var g1 = Param([64], 0.01f); var n1 = Param([64], 0.01f);
        var w2 = Param([64, 64], 0.125f); var b2 = Param([64], 0.01f);
        var w3 = Param([3, 64], 0.125f); var b3 = Param([3], 0.01f);
        using (torch.no_grad()) g1.add_(1f);   // layer_norm gain starts at ~1
        var momentum = parameters.Select(p => torch.zeros(p.shape, o.Device)).ToList();

        Tensor Forward(Tensor input)
        {
            var h = F.linear(input, w1, b1);
            h = F.layer_norm(h, [64], g1, n1).gelu();
            h = F.linear(h, w2, b2).gelu();
            return F.linear(h, w3, b3);
        }

        var clock = Stopwatch.StartNew();
        float lr = 0.1f, beta = 0.9f;
        for (int step = 1; step <= o.Steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            var logits = Forward(x);
            var loss = logits.log_softmax(-1).gather(1, y.unsqueeze(1)).mean().neg();
            loss.backward();
            using (torch.no_grad())
            {
                for (int i = 0; i < parameters.Count; i++)
                {
                    var p = parameters[i];
                    momentum[i].mul_(beta).add_(p.grad!);
                    p.sub_(momentum[i].mul(lr));
                    p.zero_grad();
                }
            }
            if (step == 1 || step % 50 == 0 || step == o.Steps)
            {
                var accuracy = logits.argmax(1).to(DType.Float32).eq(y.to(DType.Float32)).mean().item();
                Console.WriteLine($"step {step,5}  loss {loss.item():F4}  accuracy {accuracy:P1}  {step / clock.Elapsed.TotalSeconds:F1} it/s");
            }
        }
        Console.WriteLine($"memory ({o.Device}): {o.Device.Backend.MemoryStats}");
        foreach (var t in parameters.Concat(momentum).Append(x).Append(y)) t.Dispose();
        return 0;
    }

    /// <summary>Three spirals of noisy points in the plane, one class each.</summary>
    static (Tensor points, Tensor labels) Spirals(int points, Generator gen, Device device)
    {
        int perClass = points / 3;
        using var noise = torch.randn([3 * perClass, 2], gen);
        var n = noise.ToArray();
        var xy = new float[3 * perClass * 2];
        var label = new int[3 * perClass];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < perClass; i++)
            {
                int k = c * perClass + i;
                double r = (double)i / perClass;
                double angle = c * 2 * Math.PI / 3 + 4 * r;
                xy[2 * k] = (float)(r * Math.Cos(angle)) + 0.03f * n[2 * k];
                xy[2 * k + 1] = (float)(r * Math.Sin(angle)) + 0.03f * n[2 * k + 1];
                label[k] = c;
            }
        return (torch.tensor(xy, [3 * perClass, 2], device), torch.tensor((ReadOnlySpan<int>)label, [3 * perClass], device));
    }
}
