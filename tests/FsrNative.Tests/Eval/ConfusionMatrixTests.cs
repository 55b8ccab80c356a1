using FsrNative.Eval;

namespace FsrNative.Tests.Eval;

/// <summary>Spec §8.4 on cases computed by hand.</summary>
[Trait("Category", EvalCategory.Name)]
public class ConfusionMatrixTests
{
    const double Tol = 1e-12;

    [Fact]
    public void HandComputedThreeLabels()
    {
        // truth      0 0 1 1 2 255 1
        // prediction 0 1 1 1 0   2 2      (the 255 pixel is skipped whatever its prediction)
        var m = new ConfusionMatrix(3);
        m.Add(new byte[] { 0, 0, 1, 1, 2, 255, 1 }, new byte[] { 0, 1, 1, 1, 0, 2, 2 });
        Assert.Equal(6, m.Total);
        Assert.Equal(1, m.Ignored);
        Assert.Equal(1, m[0, 0]); Assert.Equal(1, m[0, 1]); Assert.Equal(2, m[1, 1]); Assert.Equal(1, m[1, 2]); Assert.Equal(1, m[2, 0]);
        Assert.Equal(0, m[2, 2]);

        var s = m.Scores(["bg", "a", "b"]);
        // IoU_0 = 1 / (2 + 2 − 1); IoU_1 = 2 / (3 + 3 − 2); IoU_2 = 0 / (1 + 1 − 0)
        Assert.Equal(1.0 / 3, s.IoU[0], Tol);
        Assert.Equal(0.5, s.IoU[1], Tol);
        Assert.Equal(0.0, s.IoU[2], Tol);
        Assert.Equal((1.0 / 3 + 0.5 + 0) / 3, s.MeanIoU, Tol);
        Assert.Equal(3.0 / 6, s.PixelAccuracy, Tol);
        Assert.Equal((0.5 + 2.0 / 3 + 0) / 3, s.MeanAccuracy, Tol);
        Assert.Equal([2L, 3, 1], s.TruthPixels);
        Assert.Equal([2L, 3, 1], s.PredictedPixels);
        Assert.All(s.Present, Assert.True);
        // frequency weighted: Σ (truth_c / total) · IoU_c
        Assert.Equal(2.0 / 6 / 3 + 3.0 / 6 * 0.5, s.FrequencyWeightedIoU, Tol);
    }

    [Fact]
    public void ClassesAbsentFromTheGroundTruthAreLeftOutOfTheMean()
    {
        // Label 3 is predicted once but never in the truth: IoU 0, shown, not averaged. Label 2: neither → NaN.
        var m = new ConfusionMatrix(4);
        m.Add(new byte[] { 0, 0, 1, 1 }, new byte[] { 0, 3, 1, 1 });
        var s = m.Scores();
        Assert.Equal(0.5, s.IoU[0], Tol);
        Assert.Equal(1.0, s.IoU[1], Tol);
        Assert.True(double.IsNaN(s.IoU[2]));
        Assert.Equal(0.0, s.IoU[3], Tol);
        Assert.Equal([true, true, false, false], s.Present);
        Assert.Equal(0.75, s.MeanIoU, Tol);
        Assert.Equal(0.75, s.PixelAccuracy, Tol);
        Assert.Equal(["0", "1", "2", "3"], s.ClassNames);
        Assert.Contains("absent", s.Format());
    }

    [Fact]
    public void AccumulatesOverImagesLikeOneConcatenatedImage()
    {
        // The split's matrix, not a mean of per-image scores: image 1 alone has mIoU 1, image 2 alone 0.5·(0 + …).
        var a = new ConfusionMatrix(2);
        a.Add(new byte[] { 1, 1, 0, 0 }, new byte[] { 1, 1, 0, 0 });
        a.Add(new byte[] { 1, 0, 255 }, new byte[] { 0, 0, 1 });
        var whole = new ConfusionMatrix(2);
        whole.Add(new byte[] { 1, 1, 0, 0, 1, 0, 255 }, new byte[] { 1, 1, 0, 0, 0, 0, 1 });
        Assert.Equal(whole.ToString(), a.ToString());
        var s = a.Scores();
        Assert.Equal(3.0 / 4, s.IoU[0], Tol);   // TP 3, FP 1, FN 0
        Assert.Equal(2.0 / 3, s.IoU[1], Tol);   // TP 2, FP 0, FN 1
        Assert.Equal((0.75 + 2.0 / 3) / 2, s.MeanIoU, Tol);

        // Merging matrices of two halves gives the same counts.
        var h1 = new ConfusionMatrix(2); h1.Add(new byte[] { 1, 1, 0, 0 }, new byte[] { 1, 1, 0, 0 });
        var h2 = new ConfusionMatrix(2); h2.Add(new byte[] { 1, 0, 255 }, new byte[] { 0, 0, 1 });
        h1.Add(h2);
        Assert.Equal(a.ToString(), h1.ToString());
        Assert.Equal(a.Total, h1.Total);
        Assert.Equal(1, h1.Ignored);
    }

    [Fact]
    public void IntsAndTensorsAgreeWithBytes()
    {
        int[] truth = [0, 2, 2, 1, -1, 255, 1], pred = [0, 2, 1, 1, 2, 0, 0];
        var fromInts = new ConfusionMatrix(3);
        fromInts.Add(truth, pred);
        Assert.Equal(5, fromInts.Total);   // −1 and 255 are skipped
        var fromTensors = new ConfusionMatrix(3);
        using var t = torch.tensor(truth, [7]);
        using var p = torch.tensor(pred, [7]);
        fromTensors.Add(t, p);
        Assert.Equal(fromInts.ToString(), fromTensors.ToString());
        var s = fromInts.Scores();
        Assert.Equal(1.0 / 2, s.IoU[0], Tol);      // TP 1, FP 1 (a 1 predicted 0), FN 0
        Assert.Equal(1.0 / 3, s.IoU[1], Tol);      // TP 1, FP 1, FN 1
        Assert.Equal(1.0 / 2, s.IoU[2], Tol);      // TP 1, FP 0, FN 1
    }

    [Fact]
    public void EmptyMatrixGivesNaNAndBadInputsThrow()
    {
        var m = new ConfusionMatrix(2);
        m.Add(new byte[] { 255, 255 }, new byte[] { 0, 1 });
        var s = m.Scores();
        Assert.True(double.IsNaN(s.MeanIoU));
        Assert.True(double.IsNaN(s.PixelAccuracy));
        Assert.Equal(2, s.IgnoredPixels);

        var e = Assert.Throws<ArgumentException>(() => m.Add(new byte[] { 0, 1 }, new byte[] { 0, 255 }));
        Assert.Contains("pixel 1", e.Message);
        Assert.Throws<ArgumentException>(() => m.Add(new byte[] { 0, 1 }, new byte[] { 0 }));
        Assert.Throws<ArgumentException>(() => m.Scores(["only one name"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConfusionMatrix(0));
        using var f = torch.zeros(2);
        using var i = torch.tensor(new[] { 0, 1 }, [2]);
        Assert.Throws<ArgumentException>(() => m.Add(f, i));
    }
}
