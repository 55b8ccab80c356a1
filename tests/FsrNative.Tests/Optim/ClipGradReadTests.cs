using FsrNative.Optim;
using FsrNative.Tests.Infrastructure;

namespace FsrNative.Tests.Optim;

/// <summary>
/// clip_grad_norm_ with <c>alsoRead</c>, the trainer's one device→host read per step: the extra values (a step's loss
/// terms) come back exactly, and the norm and the clipped gradients equal those of the plain call, on the CPU backend
/// (read in place) and on ILGPU (per-tensor norms reduced on the device, read in one transfer).
/// </summary>
[Trait(Categories.Trait, OptimCategory.Name)]
public class ClipGradReadTests
{
    static List<Tensor> Params(Device device, int seed)
    {
        int[][] shapes = [[3, 5], [7], [2, 3, 4]];
        var list = new List<Tensor>();
        for (int i = 0; i < shapes.Length; i++)
        {
            var p = torch.tensor(TestRandom.Normal((ulong)(seed + i), TestRandom.Numel(shapes[i])), shapes[i], device, requires_grad: true);
            p.grad = torch.tensor(TestRandom.Normal((ulong)(seed + 10 + i), TestRandom.Numel(shapes[i])), shapes[i], device);
            list.Add(p);
        }
        return list;
    }

    [Theory]
    [InlineData("cpu", 2.0)]
    [InlineData("ilgpu-cpu", 2.0)]
    [InlineData("ilgpu-cpu", 1.0)]
    [InlineData("ilgpu-cpu", 3.0)]
    [InlineData("ilgpu-cpu", double.PositiveInfinity)]
    public void Also_read_values_come_back_with_the_same_norm(string device, double normType)
    {
        var d = Device.Parse(device);
        var a = Params(d, 1);
        var b = Params(d, 1);
        float[] extra = [1.5f, float.NaN, -2.25f, 0f];
        using var also = torch.tensor(extra, [4], d);
        double plain = GradClip.clip_grad_norm_(a, 0.5, normType);
        double withRead = GradClip.clip_grad_norm_(b, 0.5, also, out var read, normType);
        Assert.Equal(plain, withRead);
        Assert.Equal(extra, read);
        for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].grad!.ToArray(), b[i].grad!.ToArray());
        var none = GradClip.clip_grad_norm_([], 1.0, also, out var onlyRead);
        Assert.Equal(0.0, none);
        Assert.Equal(extra, onlyRead);
    }
}
