using static FsrNative.OpSupport;

namespace FsrNative;

/// <summary>
/// DINO-style self-distillation: the cross-entropy between a centred, sharpened teacher distribution and the student's
/// log-distribution, fused into one kernel per direction (the probabilities are never stored: the backward recomputes
/// them from the logits and the two saved log-sum-exps per row), and the centre's moving-average update.
/// </summary>
public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            /// <summary>
            /// Per row of the last axis: H = −Σ_d softmax((teacher − center)/τt)_d · log_softmax(student/τs)_d, i.e. the
            /// DINO loss term before any averaging. student and teacher have the same shape (…, D); center has D elements
            /// ((D) or (1, D)) and is a constant (no gradient flows to it, as to DINO's buffer). The result has shape (…).
            /// Gradients flow to the student logits and, only when the teacher logits require grad, to them too
            /// (normally they are detached). Temperatures enter as reciprocals (x·(1/τ)), which can differ from x/τ in the
            /// last bit. Oracle: the same expression composed of torch ops.
            /// </summary>
            public static Tensor dino_cross_entropy(Tensor student, Tensor teacher, Tensor center, float student_temperature, float teacher_temperature)
            {
                const string name = "dino_cross_entropy";
                Float(student, name);
                SameDevice(student, teacher, name); SameDevice(student, center, name);
                SameDType(student, teacher, name); SameDType(student, center, name);
                if (student.dim() == 0 || !Shape.SameShape(student.ShapeSpan, teacher.ShapeSpan))
                    throw new ArgumentException($"{name}: student {Shape.Format(student.ShapeSpan)} and teacher {Shape.Format(teacher.ShapeSpan)} must have the same shape (…, D)");
                int d = student.size(-1);
                if (center.NumEl != d || center.dim() > 2 || (center.dim() == 2 && center.size(0) != 1))
                    throw new ArgumentException($"{name}: center {Shape.Format(center.ShapeSpan)} must have shape ({d}) or (1, {d})");
                if (!(student_temperature > 0) || !(teacher_temperature > 0))
                    throw new ArgumentException($"{name}: temperatures must be positive, got student {student_temperature}, teacher {teacher_temperature}");
                int rows = d == 0 ? 0 : student.NumEl / d;
                float invTs = 1f / student_temperature, invTt = 1f / teacher_temperature;
                var outShape = student.ShapeArray[..^1];
                var sc = student.ContiguousOrSelf();
                var tc = teacher.ContiguousOrSelf();
                var cc = center.ContiguousOrSelf();
                var loss = Tensor.Empty(outShape, student.device, student.DType);
                var lseS = Tensor.Empty([rows], student.device, student.DType);
                var lseT = Tensor.Empty([rows], student.device, student.DType);
                student.Backend.DinoCrossEntropy(sc, tc, cc, loss, lseS, lseT, rows, d, invTs, invTt);
                if (!Tape.Needed(student, teacher))
                {
                    lseS.Dispose(); lseT.Dispose();
                    return loss;
                }
                return Tape.Record(loss, name, [student, teacher], g =>
                {
                    var gc = g.ContiguousOrSelf();
                    var gs = student.requires_grad ? Tensor.Empty(student.ShapeArray, student.device, student.DType) : null;
                    var gt = teacher.requires_grad ? Tensor.Empty(teacher.ShapeArray, teacher.device, teacher.DType) : null;
                    student.Backend.DinoCrossEntropyBackward(sc, tc, cc, loss, lseS, lseT, gc, gs, gt, rows, d, invTs, invTt);
                    return [gs, gt];
                });
            }

            /// <summary>
            /// In place: center ← momentum·center + (1 − momentum)·mean over all rows of <paramref name="teacher"/> (…, D),
            /// DINO's centre update. Composed of the column-mean reduction and an in-place axpby (no kernel of its own: it
            /// reads the teacher logits once, and the update itself touches D elements). Runs without grad; returns center.
            /// </summary>
            public static Tensor dino_center_update_(Tensor center, Tensor teacher, float momentum)
            {
                const string name = "dino_center_update_";
                Float(center, name);
                SameDevice(center, teacher, name); SameDType(center, teacher, name);
                int d = teacher.dim() == 0 ? 0 : teacher.size(-1);
                if (teacher.dim() == 0 || center.NumEl != d)
                    throw new ArgumentException($"{name}: center {Shape.Format(center.ShapeSpan)} must have the {d} elements of the teacher's last axis {Shape.Format(teacher.ShapeSpan)}");
                if (teacher.NumEl == 0)
                    throw new ArgumentException($"{name}: the teacher batch {Shape.Format(teacher.ShapeSpan)} has no rows to average");
                using (no_grad())
                {
                    using var rows = teacher.reshape(-1, d);
                    using var mean = rows.mean(0);
                    using var meanShaped = mean.reshape(center.ShapeArray);
                    center.mul_(momentum);
                    center.add_(meanShaped, 1f - momentum);
                }
                return center;
            }
        }
    }
}
