using FsrNative.Optim;

namespace FsrNative.Model;

/// <summary>
/// The teacher network (fsr-spec §3.4, §4 step 9): an exact copy of the student that never receives gradients and
/// follows it by an EMA over every parameter — encoder, aggregation blocks, mask token, projector, decoder,
/// classifiers (the authors' code; the paper's encoder-synchronised variant is not used, §10 item 1).
/// </summary>
public static class Teacher
{
    /// <summary>A new network of the student's configuration on the student's device holding a copy of its weights,
    /// frozen (requires_grad false) and in the student's training mode (the reference never switches the teacher to
    /// eval mode during training). <paramref name="generator"/> (default: a private one seeded 0) makes the throw-away
    /// init and then feeds the teacher's drop-path in training mode: a trainer that resumes bit-identically
    /// checkpoints it.</summary>
    public static WsssNetwork Create(WsssNetwork student, Generator? generator = null)
    {
        var device = student.encoder.pos_embed.device;
        // The init is overwritten at once; a private generator keeps the default generator's stream untouched.
        var teacher = new WsssNetwork(student.config, device, generator ?? new Generator(0));
        Ema.copy_(teacher, student);
        teacher.train(student.training);
        return teacher;
    }

    /// <summary>θ_t ← m·θ_t + (1 − m)·θ_s for every parameter pair (fsr-spec §5: m = 1 − ½(1 − base)(1 + cos(π·it/iters))).</summary>
    public static void Update(WsssNetwork teacher, WsssNetwork student, double momentum) => Ema.update_(teacher, student, momentum);
}
