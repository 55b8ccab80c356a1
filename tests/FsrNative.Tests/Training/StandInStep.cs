using FsrNative.Data.Loading;
using FsrNative.Fsr.Training;
using FsrNative.Nn;
using FsrNative.Optim;
using F = FsrNative.torch.nn.functional;

namespace FsrNative.Tests.Training;

public static class TrainingCategory
{
    public const string Name = "Training";
}

/// <summary>
/// A small network for the trainer's tests (never in src): per view, the mean colour of the image (3 numbers);
/// the two views' means → "encoder" Linear(6, 8) + a 2-D "mask_token" added with the trainer's random noise → GELU
/// → "head" Linear(8, C). Shaped like FSR where the trainer sees it: encoder/heads split, a no-decay token.
/// </summary>
sealed class StandInNet : Module
{
    public StandInNet(int classes, Generator g)
    {
        Encoder = register_module("encoder", new Linear(6, 8, generator: g));
        Head = register_module("head", new Linear(8, classes, generator: g));
        register_parameter("mask_token", torch.zeros([1, 8]));
    }

    public Linear Encoder { get; }
    public Linear Head { get; }
    public Tensor mask_token => Param("mask_token");

    public Tensor Forward(Tensor v1, Tensor v2, Tensor? noise)
    {
        var x = torch.cat([v1.mean([2, 3]), v2.mean([2, 3])], 1);
        var h = Encoder.call(x);
        if (noise is not null) h = h.add(noise.mul(mask_token));
        return Head.call(h.gelu());
    }
}

/// <summary>Holds a running mean of the teacher's logits as a persistent buffer, like FSR's centres.</summary>
sealed class CentreModule : Module
{
    public CentreModule(int classes) => register_buffer("centre", torch.zeros([1, classes]));
    public Tensor centre => Buffer("centre")!;
}

/// <summary>
/// The stand-in training step: terms "cls" (multi-label soft margin of the student's logits) and "fsr" (squared
/// distance of the student's to the centred teacher's logits); teacher = EMA of the student; the centre follows
/// the teacher's batch mean after each evaluation. Draws noise from the trainer's generator (so resume must restore
/// it) unless <see cref="NoiseScale"/> is 0. <see cref="NanAtStep"/> poisons term "fsr" at that step.
/// </summary>
sealed class StandInStep : IFsrTrainingStep
{
    readonly StandInNet _student, _teacher;
    readonly CentreModule _centre;

    public StandInStep(FsrConfig config)
    {
        int classes = config.Data.NumClasses - 1;
        _student = new StandInNet(classes, new Generator(config.Run.Seed + 11));
        _teacher = new StandInNet(classes, new Generator(config.Run.Seed + 12));
        Ema.copy_(_teacher, _student);
        _centre = new CentreModule(classes);
        Modules = new Dictionary<string, Module> { ["student"] = _student, ["teacher"] = _teacher, ["fsr_loss"] = _centre };
        Parameters = new FsrParameterSplit(
            _student.named_parameters().Where(p => !p.name.StartsWith("head.", StringComparison.Ordinal)).ToList(),
            ["mask_token"],
            _student.named_parameters().Where(p => p.name.StartsWith("head.", StringComparison.Ordinal)).ToList());
    }

    public float NoiseScale { get; init; } = 1f;
    public long? NanAtStep { get; init; }
    public int Calls { get; private set; }
    public StandInNet Student => _student;
    public IReadOnlyDictionary<string, Module> Modules { get; }
    public FsrParameterSplit Parameters { get; }

    public StepResult Step(Batch batch, StepContext ctx)
    {
        Calls++;
        var v1 = batch.Views[0];
        var v2 = batch.Views[1];
        Tensor? noise = NoiseScale == 0 ? null : torch.rand([v1.shape[0], 8], ctx.Generator).mul(NoiseScale);
        var logits = _student.Forward(v1, v2, noise);
        Tensor t;
        using (torch.no_grad()) t = _teacher.Forward(v1, v2, null).sub(_centre.centre);
        var cls = F.multilabel_soft_margin_loss(logits, batch.Labels);
        var fsr = logits.sub(t).pow(2f).mean();
        if (NanAtStep == ctx.Step) fsr = fsr.mul(float.NaN);
        var w = ctx.Schedule.Weights;
        var loss = cls.mul((float)w.Cls).add(fsr.mul((float)w.FsrClass));
        using (torch.no_grad())
        {
            var c = _centre.centre;
            c.mul_(0.9f).add_(t.add(c).mean([0], keepdim: true).mul(0.1f));
        }
        return new StepResult
        {
            Loss = loss,
            Terms = new Dictionary<string, double> { ["cls"] = cls.item(), ["fsr"] = fsr.item() },
            Scalars = new Dictionary<string, double> { ["calls"] = Calls },
        };
    }

    public void AfterOptimizerStep(StepContext ctx) => Ema.update_(_teacher, _student, ctx.Schedule.Momentum);

    public void Dispose()
    {
        _student.Dispose();
        _teacher.Dispose();
        _centre.Dispose();
    }
}
