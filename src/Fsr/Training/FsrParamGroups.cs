using FsrNative.Optim;

namespace FsrNative.Fsr.Training;

/// <summary>
/// The student's trainable parameters as the optimiser needs them (fsr-spec §7, WSSSNetwork.get_param_groups):
/// the encoder's (patch embedding, blocks, aggregation blocks, query and mask tokens, position embedding) at the
/// base rate, and the new heads' (decoder, projector, both classifiers) at lr × lr_scale. Names are the
/// state-dict keys; <see cref="EncoderNoDecay"/> lists the encoder's multi-dimensional parameters exempt from
/// weight decay (the reference's encoder.no_weight_decay(): pos_embed, cls_token, mask_token).
/// </summary>
public sealed record FsrParameterSplit(
    IReadOnlyList<(string name, Tensor parameter)> Encoder,
    IReadOnlyCollection<string> EncoderNoDecay,
    IReadOnlyList<(string name, Tensor parameter)> Heads);

/// <summary>Builds the four AdamW groups of fsr-spec §7 (always four, in order, even when one is empty).</summary>
public static class FsrParamGroups
{
    /// <summary>
    /// Group 0: encoder 1-D parameters and biases + the no-decay names (base lr, wd 0); 1: the other encoder
    /// parameters (base lr, wd); 2: head 1-D parameters and biases (lr·scale, wd 0); 3: the other head parameters
    /// (lr·scale, wd). Frozen parameters (the weight-norm gain) stay in their group; the optimiser skips them.
    /// </summary>
    public static List<ParamGroup> Build(FsrParameterSplit split, TrainingSchedule schedule)
    {
        var encoder = ParamGroups.decay_split(split.Encoder, schedule.BaseLr[0], schedule.WeightDecay[1], split.EncoderNoDecay);
        var heads = ParamGroups.decay_split(split.Heads, schedule.BaseLr[2], schedule.WeightDecay[3]);
        ParamGroup Pick(List<ParamGroup> from, string kind, int index)
            => from.FirstOrDefault(g => g.name == kind) is { } g
                ? new ParamGroup(g.Parameters, lr: schedule.BaseLr[index], weight_decay: schedule.WeightDecay[index], name: TrainingSchedule.GroupNames[index])
                : new ParamGroup([], lr: schedule.BaseLr[index], weight_decay: schedule.WeightDecay[index], name: TrainingSchedule.GroupNames[index]);
        return [Pick(encoder, "no_decay", 0), Pick(encoder, "decay", 1), Pick(heads, "no_decay", 2), Pick(heads, "decay", 3)];
    }

    /// <summary>AdamW over the four groups with the configured betas and ε (fsr-spec §7).</summary>
    public static AdamW CreateOptimizer(FsrParameterSplit split, TrainingSchedule schedule, OptimConfig o)
        => new(Build(split, schedule), lr: o.Lr, beta1: o.Betas[0], beta2: o.Betas[1], eps: o.Eps, weight_decay: o.WeightDecay,
            legacyFirstMoment: o.LegacyFirstMoment);
}
