using FsrNative.Model;

namespace FsrNative.Fsr.Training;

/// <summary>
/// The multi-scale CAMs one FSR iteration needs (fsr-spec §4 steps 1 and 4, §3.5), without gradient: view 2's aux CAM
/// for the block mask and view 1's main and aux CAMs for the pseudo labels and PTC. When both views are needed they go
/// through <see cref="MultiScaleCam.Compute"/> as ONE batch [V1; V2] per scale (the student's weights are the same for
/// both; images are independent), halving the number of passes; rows no live term reads are not computed. The
/// reference's log-only CAM and pseudo label of view 2 are not made.
/// </summary>
sealed class StepCams : IDisposable
{
    /// <summary>View 1's main CAM (B, C, H, W), for PAR; null when not asked for.</summary>
    public Tensor? Cam1 { get; private init; }
    /// <summary>View 1's aux CAM, for the PTC token labels.</summary>
    public Tensor? AuxCam1 { get; private init; }
    /// <summary>View 2's aux CAM, for the uncertain block mask.</summary>
    public Tensor? AuxCam2 { get; private init; }

    public static StepCams Compute(WsssNetwork student, Tensor view1, Tensor view2, IReadOnlyList<double> scales, bool view1Needed, bool view2Needed)
    {
        if (!view1Needed && !view2Needed) return new StepCams();
        int b = view1.size(0);
        using var scope = torch.NewDisposeScope();
        var images = view1Needed && view2Needed ? torch.cat([view1, view2], 0) : view1Needed ? view1 : view2;
        var (cam, aux) = MultiScaleCam.Compute(student, images, scales);
        if (!view1Needed) return new StepCams { AuxCam2 = aux.MoveToOuterDisposeScope() };
        if (!view2Needed) return new StepCams { Cam1 = cam.MoveToOuterDisposeScope(), AuxCam1 = aux.MoveToOuterDisposeScope() };
        return new StepCams
        {
            Cam1 = cam.narrow(0, 0, b).contiguous().MoveToOuterDisposeScope(),
            AuxCam1 = aux.narrow(0, 0, b).contiguous().MoveToOuterDisposeScope(),
            AuxCam2 = aux.narrow(0, b, b).contiguous().MoveToOuterDisposeScope(),
        };
    }

    public void Dispose()
    {
        Cam1?.Dispose();
        AuxCam1?.Dispose();
        AuxCam2?.Dispose();
    }
}
