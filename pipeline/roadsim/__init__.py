"""Synthetic road renderer: a dashcam drive or random frames with lane-line ground truth.

numpy + OpenCV only (usable by the runtime's ``synthetic://`` source). Every pixel below the
horizon is ray-cast onto the road; markings, asphalt texture and shadows are functions of road
coordinates (s along, d across) filtered over the pixel footprint; vertical things are projected
polygons; camera effects come last. Deterministic for a seed.

    from lanecam.pipeline.roadsim import RoadRenderer, random_frame, SLOTS
    frame, gt = RoadRenderer(1280, 720, seed=0).next()
    frame, gt = random_frame(7, width=640, height=360)
    gt.lines, gt.exists, gt.slot_mask(90, 160), gt.tusimple_lanes(range(160, 720, 10))

Scene distribution: ``random_frame`` draws the v2 mix (``mix.DEFAULT_MIX``: barriers, walls,
curbs and hedges beside or instead of edge lines, bare verges, rural roads with edge lines or no
paint, dense traffic, a bonnet, camera height 1-3 m, HFOV 40-120 deg, barrel lens, roll, wet
roads, street lights, glare, and frames with no road, whose labels are empty); ``mix=V1`` gives
the v1 distribution. ``RoadRenderer`` drives stay v1 unless given a mix. Only painted lines are
labelled: a road edge, a barrier or a vehicle side never is; a line hidden by a vehicle is.

Conventions: slots L2, L1, R1, R2 are the two lines on each side of the vehicle, left to
right; ``lateral_offset_m`` > 0 when the vehicle is right of its lane centre;
``curvature_radius_m`` > 0 when the road bends right (inf when straight).
"""

from lanecam.pipeline.roadsim.camera import Camera
from lanecam.pipeline.roadsim.drive import RoadRenderer, random_frame
from lanecam.pipeline.roadsim.labels import SLOTS, GroundTruth, LaneLineGT

__all__ = ["RoadRenderer", "random_frame", "GroundTruth", "LaneLineGT", "SLOTS", "Camera"]
