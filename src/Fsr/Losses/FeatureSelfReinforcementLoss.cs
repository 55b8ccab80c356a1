using FsrNative.Nn;

namespace FsrNative.Fsr.Losses;

/// <summary>Which class-token pairs the cer.FSR loss uses (fsr-spec §6.5, §10 item 4).</summary>
public enum ClassTokenPairing
{
    /// <summary>The authors' code: teacher view 1 (clean) → student view 2 (masked) only; the centre follows the teacher's
    /// view-1 class tokens.</summary>
    OneWay,
    /// <summary>The paper's reading as a symmetric DINO loss: the mean of teacher V1 → student V2 and teacher V2 → student
    /// V1; the centre follows the teacher's class tokens of both views.</summary>
    Symmetric,
}

/// <summary>Settings of the FSR losses (fsr-spec §5, §6.5, §9).</summary>
public sealed record FsrLossOptions
{
    public float StudentTemperature { get; init; } = 0.1f;
    public float CenterMomentum { get; init; } = 0.9f;
    public ClassTokenPairing ClassTokenPairing { get; init; } = ClassTokenPairing.OneWay;

    public static FsrLossOptions Default { get; } = new();
}

/// <summary>The two FSR terms of one iteration (0-D tensors).</summary>
public sealed record FsrLossTerms(Tensor ClassToken, Tensor Patch);

/// <summary>
/// Feature self-reinforcement losses (fsr-spec §6.5; the reference's <c>FSRLoss</c>) on the projector outputs of the
/// student and the teacher, both (2B, 1 + N, D) with rows 0..B−1 = view 1, B..2B−1 = view 2, token 0 = class token:
/// <list type="bullet">
/// <item>unc.FSR (patch): H_bj = −Σ_d softmax((Z_t[V2,b,j] − c_patch)/τ_t)·log_softmax(Z_s[V2,b,j]/τ_s) over the
/// patch tokens; L = mean_b(Σ_j M_bj·H_bj / max(1, Σ_j M_bj)) with the view-2 token mask M.</item>
/// <item>cer.FSR (class token): mean_b CE(softmax((Z_t[V1,b,0] − c_cls)/τ_t), log_softmax(Z_s[V2,b,0]/τ_s))
/// (<see cref="ClassTokenPairing"/>).</item>
/// </list>
/// Each call uses the current centres, then updates them (fsr-spec §12: the current step uses the previous centres):
/// c ← m·c + (1 − m)·mean of the teacher rows the loss used. The teacher outputs are constants (detached).
/// A <see cref="Module"/> whose centres are persistent buffers (<c>class_center</c> (1, D), <c>patch_center</c> (1, 1, D),
/// the reference's names), so its <c>state_dict</c> carries them into checkpoints and <c>load_state_dict</c> restores them.
/// </summary>
public sealed class FeatureSelfReinforcementLoss : Module
{

    /// <param name="outDim">Projector output width D (4096; the golden tiny model 128).</param>
    public FeatureSelfReinforcementLoss(int outDim, FsrLossOptions? options = null, Device? device = null)
    {
        if (outDim < 1) throw new ArgumentException($"FeatureSelfReinforcementLoss: outDim must be positive, got {outDim}");
        Options = options ?? FsrLossOptions.Default;
        if (!(Options.StudentTemperature > 0)) throw new ArgumentException($"FeatureSelfReinforcementLoss: StudentTemperature must be positive, got {Options.StudentTemperature}");
        if (!(Options.CenterMomentum >= 0 && Options.CenterMomentum <= 1)) throw new ArgumentException($"FeatureSelfReinforcementLoss: CenterMomentum must be in [0, 1], got {Options.CenterMomentum}");
        OutDim = outDim;
        register_buffer("class_center", torch.zeros([1, outDim], device));
        register_buffer("patch_center", torch.zeros([1, 1, outDim], device));
    }

    public FsrLossOptions Options { get; }
    public int OutDim { get; }

    /// <summary>The class-token centre (1, D) (the reference's <c>class_center</c> buffer; live tensor).</summary>
    public Tensor ClassCenter => Buffer("class_center")!;

    /// <summary>The patch-token centre (1, 1, D) (the reference's <c>patch_center</c> buffer; live tensor).</summary>
    public Tensor PatchCenter => Buffer("patch_center")!;

    /// <summary>
    /// Both losses for one iteration at teacher temperature <paramref name="teacherTemperature"/>
    /// (<c>TrainingSchedule.TeacherTemperatureAt</c>), then the centre updates. <paramref name="viewTwoMask"/> is the view-2
    /// token mask (B, gridH, gridW) or (B, N) (Int32 or Float32, non-zero = masked); null gives a patch loss of 0 (as the
    /// reference without masking) and leaves the patch centre alone.
    /// </summary>
    public FsrLossTerms Forward(Tensor teacherOutput, Tensor studentOutput, Tensor? viewTwoMask, float teacherTemperature)
    {
        Check(teacherOutput, studentOutput, teacherTemperature);
        var classToken = ClassTokenLoss(teacherOutput, studentOutput, teacherTemperature);
        var patch = PatchLoss(teacherOutput, studentOutput, viewTwoMask, teacherTemperature);
        return new FsrLossTerms(classToken, patch);
    }

    /// <summary>cer.FSR, then the class-centre update.</summary>
    public Tensor ClassTokenLoss(Tensor teacherOutput, Tensor studentOutput, float teacherTemperature)
    {
        Check(teacherOutput, studentOutput, teacherTemperature);
        int b = teacherOutput.size(0) / 2;
        var teacher = teacherOutput.detach().select(1, 0);   // (2B, D)
        var student = studentOutput.select(1, 0);
        var teacherV1 = teacher.narrow(0, 0, b);
        var studentV2 = student.narrow(0, b, b);
        float ts = Options.StudentTemperature;
        // The backward reads the centre: give it this step's value, not the buffer that is updated below.
        var center = Snapshot(ClassCenter);
        Tensor loss = torch.nn.functional.dino_cross_entropy(studentV2, teacherV1, center, ts, teacherTemperature).mean();
        Tensor centreRows = teacherV1;
        if (Options.ClassTokenPairing == ClassTokenPairing.Symmetric)
        {
            var reverse = torch.nn.functional.dino_cross_entropy(student.narrow(0, 0, b), teacher.narrow(0, b, b), center, ts, teacherTemperature).mean();
            loss = loss.add(reverse).mul(0.5f);
            centreRows = teacher;
        }
        torch.nn.functional.dino_center_update_(ClassCenter, centreRows, Options.CenterMomentum);
        return loss;
    }

    /// <summary>unc.FSR over the masked view-2 patch tokens, then the patch-centre update.</summary>
    public Tensor PatchLoss(Tensor teacherOutput, Tensor studentOutput, Tensor? viewTwoMask, float teacherTemperature)
    {
        Check(teacherOutput, studentOutput, teacherTemperature);
        int b = teacherOutput.size(0) / 2, n = teacherOutput.size(1) - 1;
        if (viewTwoMask is null) return torch.zeros([], studentOutput.device);
        if (viewTwoMask.size(0) != b || viewTwoMask.NumEl != b * n)
            throw new ArgumentException($"FeatureSelfReinforcementLoss: view-2 mask ({string.Join(", ", viewTwoMask.shape)}) must hold B = {b} rows of the N = {n} patch tokens");
        Tensor mask;
        using (torch.no_grad())
        {
            using var m = viewTwoMask.DType == DType.Float32 ? viewTwoMask.detach() : viewTwoMask.to(DType.Float32);
            using var flat = m.reshape(b, n);
            mask = flat.ne(0f);
        }
        var teacher = teacherOutput.detach().narrow(0, b, b).narrow(1, 1, n);     // (B, N, D) teacher V2 patches
        var student = studentOutput.narrow(0, b, b).narrow(1, 1, n);              // student masked V2 patches
        var center = Snapshot(PatchCenter).reshape(1, OutDim);
        var perToken = torch.nn.functional.dino_cross_entropy(student, teacher, center, Options.StudentTemperature, teacherTemperature);
        Tensor counts;
        using (torch.no_grad())
        {
            using var s = mask.sum(1);
            counts = s.clamp(min: 1f);
        }
        var loss = perToken.mul(mask).sum(1).div(counts).mean();
        torch.nn.functional.dino_center_update_(PatchCenter, teacher, Options.CenterMomentum);
        return loss;
    }

    static Tensor Snapshot(Tensor centre)
    {
        using var noGrad = torch.no_grad();
        return centre.clone();
    }

    void Check(Tensor teacherOutput, Tensor studentOutput, float teacherTemperature)
    {
        if (teacherOutput.dim() != 3 || !teacherOutput.shape.SequenceEqual(studentOutput.shape))
            throw new ArgumentException($"FeatureSelfReinforcementLoss: teacher ({string.Join(", ", teacherOutput.shape)}) and student ({string.Join(", ", studentOutput.shape)}) outputs must both be (2B, 1 + N, D)");
        if (teacherOutput.size(0) % 2 != 0 || teacherOutput.size(0) == 0)
            throw new ArgumentException($"FeatureSelfReinforcementLoss: the batch of {teacherOutput.size(0)} rows is not two views of B images");
        if (teacherOutput.size(2) != OutDim)
            throw new ArgumentException($"FeatureSelfReinforcementLoss: outputs have width {teacherOutput.size(2)}, the centres {OutDim}");
        if (teacherOutput.size(1) < 2)
            throw new ArgumentException($"FeatureSelfReinforcementLoss: outputs need a class token and at least one patch token, got {teacherOutput.size(1)} tokens");
        if (!(teacherTemperature > 0)) throw new ArgumentException($"FeatureSelfReinforcementLoss: teacher temperature must be positive, got {teacherTemperature}");
    }
}
