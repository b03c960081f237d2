"""``LaneDetector``: the per-frame work of lanecam (preprocess -> infer -> lanes -> geometry ->
draw) in one object, for the Python API and for every command.

``detector(frame)`` runs the steps one after the other; the threaded runner calls the same
steps (``preprocess``, ``infer``, ``postprocess``, ``draw``) from its stages, so there is one
composition of the per-frame work in the whole project.

Frames may change size between calls: everything that depends on the frame size (the
preprocessor's buffers, the lane extractor's coordinate maps, the undistortion maps, the
geometry estimator) is made once per size, on first use, and kept.
"""

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple, Union

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lanes import LaneExtractor, LaneResult
from lanecam.pipeline.lanes.horizon import AUTO, AutoCrop, parse_crop_top, vanishing_share
from lanecam.pipeline.preprocess import Preprocessor

__all__ = ["LaneDetector", "DetectorConfig"]


@dataclass(frozen=True)
class DetectorConfig:
    """What a ``LaneDetector`` is made of; the same names as ``lanecam run``'s flags.

    Attributes:
        model: model path (.onnx, TensorRT plan, .keras/.h5/SavedModel); None: the bundled one.
        engine: "auto", "onnxruntime", "tensorrt" or "keras".
        spec: ModelSpec JSON path for a model with none embedded or beside it.
        calibration: camera profile JSON (undistortion; curvature, offset and lane departure
            in metres when it has a bird's-eye section).
        threads: ONNX Runtime intra-op threads (None: half the cores, at least 1).
        engine_cache: folder for TensorRT plans built from an ONNX model.
        heatmap: a convolutionalized classifier's ONNX, whose score map ``draw`` blends under
            the lanes.
        lane_threshold, exist_threshold: lane extraction thresholds (None: the ModelSpec's).
        fps: frame rate of the input, for the lateral-offset rate and lane-departure timing.
        hud: ``draw`` adds the text HUD (FPS, latency, engine, geometry) when given HUD values.
        trust_model_code: let the keras engine load a model with Lambda layers (their Python
            code runs); None follows ``$LANECAM_TRUST_MODEL_CODE``. Off: such models are refused.
        crop_top: the share of the frame height cut off above the road before the model
            (None: the ModelSpec's, 0.30 for the bundled model, whose training camera's lane
            lines meet at 0.315 of the height): about 0.015 above where the lane lines meet
            (docs/usage.md, "Another camera"). ``"auto"``: start at the ModelSpec's and, per
            frame size, move it up to that for a camera whose found ego lines meet higher
            (``pipeline.lanes.horizon``).
    """

    model: Optional[str] = None
    engine: str = "auto"
    spec: Optional[str] = None
    calibration: Optional[str] = None
    threads: Optional[int] = None
    engine_cache: Optional[str] = None
    heatmap: Optional[str] = None
    lane_threshold: Optional[float] = None
    exist_threshold: Optional[float] = None
    fps: float = 25.0
    hud: bool = True
    trust_model_code: Optional[bool] = None
    crop_top: Optional[Union[float, str]] = None


class _SizeState:
    """Everything that depends on one frame size (made on first use of the size)."""

    def __init__(self, detector: "LaneDetector", width: int, height: int):
        spec, profile = detector.spec, detector.profile
        self.maps = None
        self.geometry = None
        if profile is not None and profile.has_distortion:
            self.maps = profile.undistort_maps(width, height)
        self.spec, self.size, self.config = spec, (width, height), detector.config
        # the workers of each crop used so far (only --crop-top auto uses more than one; the
        # preprocess and postprocess threads each fill their own dict). The spec's are made
        # now, so that prepare() reports a bad size before a pipeline's threads start.
        self._pres: Dict[float, Preprocessor] = {}
        self._exts: Dict[float, LaneExtractor] = {}
        self.pre_for(spec.crop_top)
        self.ext_for(spec.crop_top)
        self.auto = AutoCrop(spec.crop_top) if detector.auto_crop else None
        self.preprocessed = self.postprocessed = 0     # frames of this size, in order
        self.last_crop = spec.crop_top                 # the crop of the last preprocessed one
        if profile is not None and profile.birdseye is not None:
            from lanecam.pipeline.geometry import GeometryEstimator

            self.geometry = GeometryEstimator(profile, width, height,
                                              undistorted=self.maps is not None,
                                              fps=detector.config.fps)
        from lanecam.pipeline.trust import InputChecks

        self.checks = InputChecks(width, height, spec.crop_top, profile)
        self.heatmap = self.heatmap_overlay = None
        if detector.config.heatmap:
            from lanecam.pipeline.heatmap import HeatmapModel

            self.heatmap = HeatmapModel(detector.config.heatmap, width, height)

    @property
    def crop_top(self) -> float:
        """The crop the next frame of this size gets."""
        if self.auto is None:
            return self.spec.crop_top
        return self.auto.crop_for(self.preprocessed)

    def pre_for(self, crop_top: float) -> Preprocessor:
        pre = self._pres.get(crop_top)
        if pre is None:
            spec = _with_crop_top(self.spec, crop_top)
            pre = self._pres[crop_top] = Preprocessor(spec, *self.size, undistort_maps=self.maps)
        return pre

    def ext_for(self, crop_top: float) -> LaneExtractor:
        ext = self._exts.get(crop_top)
        if ext is None:
            spec = _with_crop_top(self.spec, crop_top)
            ext = self._exts[crop_top] = LaneExtractor(
                spec, *self.size, threshold=self.config.lane_threshold,
                exist_threshold=self.config.exist_threshold)
        return ext


class LaneDetector:
    """Finds the lanes in BGR frames with a lane FCN; the one object every entry point uses.

    Args:
        model: model path, or None for the bundled LaneFCN (on ONNX Runtime by default).
        engine: engine name ("auto", "onnxruntime", "tensorrt", "keras"), or an ``Engine``
            instance to use as it is (e.g. a Keras model being trained).
        spec: a ``ModelSpec`` or the path of its JSON, for a model with none of its own.
        calibration: a camera ``Profile`` or the path of its JSON.
        threads: ONNX Runtime intra-op threads.
        config: a ``DetectorConfig``; the keyword arguments above override its fields.
        **options: any other ``DetectorConfig`` field (``heatmap=``, ``lane_threshold=``, ...).

    The model and spec are checked at construction (bad input raises ``InputError`` here); the
    engine is opened by ``open()`` or on the first inference, in the calling thread, which must
    be the thread that infers (a TensorRT context belongs to its thread). ``close()`` (or
    ``with LaneDetector() as d:``) frees it.

    Thread use: ``preprocess``, ``infer`` and ``postprocess``/``draw`` may run in three
    different threads (the pipeline does), but each step from one thread at a time: each
    keeps reusable buffers.

    Attributes:
        on_warning: None, or a callable ``(code, text)`` told of input warnings (the codes and
            one-line texts of ``pipeline.trust.WARNING_TEXT``). ``postprocess`` calls it, so it
            runs in the thread that runs postprocess: the caller's for ``detector(frame)``, the
            pipeline's postprocess worker in ``lanecam run`` (not the main thread). Once per
            warning code for the lifetime of the detector, at any frame size, even if the call
            raised; every frame's ``LaneResult.warnings`` still lists its codes. An exception
            raised by it propagates out of ``postprocess`` (in the pipeline, the run stops
            with a ``PipelineError`` like any stage failure).
        on_crop: None, or a callable ``(width, height, old, new)`` told when
            ``crop_top="auto"`` moves the crop of one frame size; called like ``on_warning``,
            from the thread that runs postprocess.
    """

    def __init__(self, model=None, engine="auto", spec=None, calibration=None,
                 threads: Optional[int] = None, config: Optional[DetectorConfig] = None,
                 **options):
        from lanecam.engines.base import Engine

        given = {"model": model, "engine": None if isinstance(engine, Engine) else engine,
                 "spec": spec if not _is_spec(spec) else None,
                 "calibration": calibration if not _is_profile(calibration) else None,
                 "threads": threads, **options}
        base = config or DetectorConfig()
        unknown = sorted(set(given) - set(DetectorConfig.__dataclass_fields__))
        if unknown:
            raise TypeError(f"LaneDetector: unknown option(s) {', '.join(unknown)}")
        changes = {k: (str(v) if isinstance(v, Path) else v) for k, v in given.items()
                   if v is not None and not (k == "engine" and v == "auto" and config)}
        self.config = _replace(base, changes)
        self.profile = self._load_profile(calibration)
        if isinstance(engine, Engine):
            self.engine = engine
        else:
            from lanecam.engines.loader import open_engine
            from lanecam.engines.modelspec import ModelSpec

            c = self.config
            model_spec = spec if _is_spec(spec) else (ModelSpec.load(c.spec) if c.spec else None)
            self.engine = open_engine(c.model, engine=c.engine, spec=model_spec,
                                      threads=c.threads, cache_dir=c.engine_cache,
                                      trust_model_code=c.trust_model_code)
        self.spec = self.engine.spec
        crop = self.config.crop_top
        if crop is not None:
            try:
                crop = parse_crop_top(crop)
            except ValueError as exc:
                raise InputError(f"crop_top: expected {exc}, got {crop!r}") from None
        self.auto_crop = crop == AUTO
        if crop is not None and not self.auto_crop:
            self.spec = _with_crop_top(self.spec, crop)
        self._overlay = None
        self._sizes: Dict[Tuple[int, int], _SizeState] = {}
        self._sizes_lock = threading.Lock()
        self._open = False
        # see the class docstring
        self.on_warning: Optional[Callable[[str, str], None]] = None
        self.on_crop: Optional[Callable[[int, int, float, float], None]] = None
        self._warned = set()

    def _load_profile(self, calibration):
        if _is_profile(calibration):
            return calibration
        if not self.config.calibration:
            return None
        from lanecam.calibration import load_profile

        return load_profile(self.config.calibration)

    # ---- lifecycle -------------------------------------------------------------------------
    def open(self) -> "LaneDetector":
        """Open the engine (sessions, GPU memory) in the calling thread; idempotent."""
        if not self._open:
            self.engine.open()
            self._open = True
        return self

    def close(self) -> None:
        """Free the engine and the heatmap models; idempotent."""
        self.close_engine()
        self.close_overlays()

    def close_engine(self) -> None:
        """Free the engine (from the thread that opened it); idempotent."""
        if self._open:
            self._open = False
            self.engine.close()

    def close_overlays(self) -> None:
        """Free what ``draw`` opened (heatmap models); idempotent."""
        for state in self._sizes.values():
            if state.heatmap is not None:
                state.heatmap.close()

    def __enter__(self) -> "LaneDetector":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def describe(self) -> str:
        """``engine/providers`` (``onnxruntime/cpu``), for logs and the HUD."""
        return self.engine.describe()

    # ---- per size ----------------------------------------------------------------------------
    def for_size(self, width: int, height: int) -> _SizeState:
        """The per-size workers for ``width`` x ``height`` frames (made on first use).

        Raises ``InputError`` for a size outside what every source accepts
        (``MIN_SIDE``..``MAX_WIDTH`` x ``MIN_SIDE``..``MAX_HEIGHT``, 8 px to 8K)."""
        key = (int(width), int(height))
        state = self._sizes.get(key)
        if state is None:
            from lanecam.pipeline.sources.base import check_frame_size

            # the bounds of every source (8 px .. 8K), for frames handed in by the API too:
            # a 20000x20000 frame would otherwise cost gigabytes per buffer before any check
            check_frame_size("frame", *key)
            with self._sizes_lock:
                state = self._sizes.get(key)
                if state is None:
                    state = self._sizes[key] = _SizeState(self, *key)
        return state

    def prepare(self, width: int, height: int) -> "LaneDetector":
        """Make the per-size workers for ``width`` x ``height`` now and check the heatmap model,
        so bad input is reported before a pipeline's threads start; returns self."""
        state = self.for_size(width, height)
        if state.heatmap is not None:
            state.heatmap.open()
        return self

    @staticmethod
    def _size_of(frame: np.ndarray) -> Tuple[int, int]:
        if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 \
                or frame.dtype != np.uint8:
            shape = getattr(frame, "shape", None)
            dtype = getattr(frame, "dtype", type(frame).__name__)
            raise InputError(f"frame: expected a BGR uint8 array (H, W, 3), got {dtype} {shape}")
        return frame.shape[1], frame.shape[0]

    # ---- the steps ---------------------------------------------------------------------------
    def preprocess(self, frame: np.ndarray, out: Optional[np.ndarray] = None,
                   undistorted: Optional[np.ndarray] = None,
                   crop_top: Optional[float] = None) -> np.ndarray:
        """BGR uint8 frame -> the model input tensor (``spec.input_shape``).

        Writes into ``out`` when given (else into a buffer reused by the next call of this
        frame size). With a calibration that has lens distortion, the undistorted frame is
        copied into ``undistorted`` when given (the pipeline passes the frame itself, so the
        lanes are drawn on the image they were found in). ``crop_top``: the crop to use
        (``crop_top_for``; None: the current one). Steps run one after the other need not
        pass it on: ``postprocess`` takes the last preprocessed frame's by default.
        """
        state = self.for_size(*self._size_of(frame))
        crop = state.crop_top if crop_top is None else crop_top
        pre = state.pre_for(crop)
        tensor = pre(frame, out=out)
        state.preprocessed += 1
        state.last_crop = crop
        if undistorted is not None and state.maps is not None:
            np.copyto(undistorted, pre.undistorted_frame)
        return tensor

    def crop_top_for(self, width: int, height: int) -> float:
        """The crop the next ``width`` x ``height`` frame gets: the ModelSpec's (or the given
        ``crop_top``), or under ``crop_top="auto"`` the one its ego lines have set so far."""
        return self.for_size(width, height).crop_top

    def infer(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        """The model's outputs by name for one input tensor (opens the engine on first use).

        The arrays are the engine's own buffers, overwritten by the next call: copy what must
        outlive it.
        """
        if not self._open:
            self.open()
        return self.engine.infer(tensor)

    @property
    def last_latency_ms(self) -> float:
        """Model-only latency of the last ``infer`` call."""
        return self.engine.last_latency_ms

    def postprocess(self, outputs: Dict[str, np.ndarray], width: int, height: int,
                    frame_id: int = 0, frame: Optional[np.ndarray] = None,
                    crop_top: Optional[float] = None) -> LaneResult:
        """Lanes (frame pixels of a ``width`` x ``height`` frame), the input warnings and, with
        a calibration, the geometry (smoothed over the frames of this size, in ``frame_id``
        order).

        With ``frame`` (the frame the outputs are of), ``result.warnings`` also says when the
        frame shows no road (black, blank, blown out), and such a frame gets no lanes: nothing
        on it is evidence of paint. The first time each warning code appears,
        ``on_warning(code, text)`` is called (the CLI prints it on stderr).

        ``crop_top``: the crop the outputs were made with (what ``preprocess`` used; None: the
        last preprocessed frame's of this size, right when the steps run one after the
        other; the pipeline, with frames in flight, passes each frame's own). Under
        ``crop_top="auto"`` the frame's ego lines then update
        the crop of later frames; ``on_crop(width, height, old, new)`` is told of a change.
        """
        state = self.for_size(width, height)
        crop = state.last_crop if crop_top is None else crop_top
        result = state.ext_for(crop)(outputs, frame_id)
        result.warnings = state.checks.check(frame)
        if "no_road" in result.warnings:
            result.lanes, result.ego_polygon = [], None
        elif state.auto is not None:
            old = state.auto.latest
            new = state.auto.observe(vanishing_share(result, height), state.postprocessed, crop)
            if new is not None and self.on_crop is not None:
                self.on_crop(width, height, old, new)
        state.postprocessed += 1
        for code in result.warnings:
            if code not in self._warned:
                self._warned.add(code)
                if self.on_warning is not None:
                    from lanecam.pipeline.trust import WARNING_TEXT

                    self.on_warning(code, WARNING_TEXT.get(code, code))
        if state.geometry is not None:
            state.geometry.update(result)
        return result

    def draw(self, frame: np.ndarray, result: Optional[LaneResult], hud: Optional[dict] = None,
             *, inplace: bool = False, undistort: bool = True) -> np.ndarray:
        """The frame with the lanes, the ego lane, the departure banner and (with ``hud``
        values and ``config.hud``) the text HUD drawn over it.

        Args:
            frame: the BGR frame the result was found in.
            result: what ``__call__``/``postprocess`` returned (None: HUD only).
            hud: HUD values (``fps``, ``latency_ms``, ``dropped``, ``engine``) or None.
            inplace: draw into ``frame`` itself instead of a copy.
            undistort: with a calibration that has lens distortion, undistort ``frame`` first
                (the lanes are in undistorted pixels); False when it already is.
        Returns the annotated frame (``frame`` itself when ``inplace``).
        """
        state = self.for_size(*self._size_of(frame))
        if undistort and state.maps is not None:
            import cv2

            base = cv2.remap(frame, state.maps[0], state.maps[1], cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT)
            if inplace:
                np.copyto(frame, base)
                base = frame
        else:
            base = frame if inplace else frame.copy()
        overlay = self._overlay_for(state)
        return overlay.draw(base, result, hud if self.config.hud else None)

    def _overlay_for(self, state: _SizeState):
        from lanecam.pipeline.overlay import Overlay

        if self._overlay is None:
            self._overlay = Overlay(show_hud=self.config.hud)
        if state.heatmap is None:
            return self._overlay
        from lanecam.pipeline.heatmap import HeatmapOverlay

        if state.heatmap_overlay is None:
            state.heatmap_overlay = HeatmapOverlay(state.heatmap, inner=self._overlay)
        return state.heatmap_overlay

    def __call__(self, frame: np.ndarray, frame_id: int = 0) -> LaneResult:
        """Lanes of one BGR uint8 frame (any size; sizes may change between calls).

        ``frame_id`` orders the frames for the geometry's smoothing and departure timing.
        """
        width, height = self._size_of(frame)
        crop = self.crop_top_for(width, height)
        outputs = self.infer(self.preprocess(frame, crop_top=crop))
        return self.postprocess(outputs, width, height, frame_id, frame=frame, crop_top=crop)

    def __repr__(self) -> str:
        return f"<LaneDetector {self.spec.name} on {self.engine.describe()}>"


def _with_crop_top(spec, crop_top):
    """``spec`` with another horizon crop; one line naming the option for a bad value."""
    import dataclasses
    import math

    value = float(crop_top)
    if not (math.isfinite(value) and 0.0 <= value <= 0.8
            and value + spec.crop_bottom < 0.95):
        raise InputError(f"crop_top: expected a share of the frame height in [0, 0.8] "
                         f"(with the model's crop_bottom {spec.crop_bottom} under 0.95), "
                         f"got {crop_top!r}")
    return dataclasses.replace(spec, crop_top=value)


def _is_spec(value) -> bool:
    from lanecam.engines.modelspec import ModelSpec

    return isinstance(value, ModelSpec)


def _is_profile(value) -> bool:
    return value is not None and hasattr(value, "has_distortion") and hasattr(value, "birdseye")


def _replace(config: DetectorConfig, changes: dict) -> DetectorConfig:
    from dataclasses import replace

    return replace(config, **changes) if changes else config
