namespace FsrNative;

/// <summary>Centering family: the fused DINO teacher/student cross-entropy over rows (contiguous (rows, d) blocks).</summary>
public partial interface IBackend
{
    /// <summary>Per row: loss = −Σ softmax((t − c)·invTt)·log_softmax(s·invTs), and the two log-sum-exps of the scaled
    /// logits (saved for the backward). student, teacher (rows, d); center (d); loss, lseS, lseT (rows).</summary>
    void DinoCrossEntropy(Tensor student, Tensor teacher, Tensor center, Tensor loss, Tensor lseS, Tensor lseT, int rows, int d, float invTs, float invTt);

    /// <summary>Gradients of <see cref="DinoCrossEntropy"/> for the per-row upstream gradient g (rows): to the student
    /// logits into <paramref name="gStudent"/> and to the teacher logits into <paramref name="gTeacher"/>, each when not null.</summary>
    void DinoCrossEntropyBackward(Tensor student, Tensor teacher, Tensor center, Tensor loss, Tensor lseS, Tensor lseT, Tensor g,
        Tensor? gStudent, Tensor? gTeacher, int rows, int d, float invTs, float invTt);
}
