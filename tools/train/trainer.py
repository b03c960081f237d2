"""The LaneFCN training loop: samples made in worker processes, checkpoints, resume, reports.

One run lives in one folder (``--out``):

- ``state.json``: the run's settings, the epoch reached and the per-epoch history;
- ``last.keras``: model + optimizer after the last finished epoch (what ``--resume`` loads);
- ``history.jsonl``: one line per epoch (losses, synthetic IoU, TuSimple scores when present);
- ``model.keras`` + ``model.spec.json``: the final model, without optimizer state; the spec
  carries the extraction thresholds chosen on synthetic frames (``lanecam.tools.train.thresholds``).

Sample ``i`` of epoch ``e`` is made from seed ``seed * 10**9 + e * 10**6 + i`` (independent of
worker scheduling), so an interrupted run resumed from its last epoch sees the data it would
have seen.
"""

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional

import numpy as np

from lanecam.engines.keras_code_scan import refuse_code_layers
from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.errors import InputError, LanecamError
from lanecam.pipeline.outputs import atomic_path, write_atomic
from lanecam.tools.train.batches import Batches, start_pool

__all__ = ["TrainConfig", "train", "check_config"]


@dataclass
class TrainConfig:
    """Settings of one training run (all stored in ``state.json``)."""

    out: str
    epochs: int = 22
    steps: int = 250
    batch: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    workers: int = 2
    crop_top: float = 0.30
    thickness: int = 2
    lane_weight: float = 4.0
    dice_weight: float = 1.0
    exist_weight: float = 0.5
    val_count: int = 192
    threshold_frames: int = 100                # synthetic frames that choose the thresholds
    synthetic_eval: int = 40
    tusimple_eval: Optional[str] = None        # folder with labels.json: scored, never trained on
    data_labels: List[str] = field(default_factory=list)   # real data in TuSimple format
    data_root: Optional[str] = None
    culane: List[str] = field(default_factory=list)        # real data, CULane-format folders
    real_fraction: float = 0.5                 # share of real samples when real data is given
    widths: tuple = (24, 32, 48, 64, 96)
    decoder_width: int = 32
    input_size: tuple = (320, 128)             # model input width, height
    init_from: Optional[str] = None            # warm start: weights of a saved LaneFCN (.keras)
    pseudo_videos: List[str] = field(default_factory=list)  # real videos, teacher-labelled
    teacher: Optional[str] = None              # the teacher model (default: the bundled one)
    pseudo_fraction: float = 0.25              # share of pseudo-labelled samples
    pseudo_night: float = 0.0                  # share of those turned to night (data.night_transfer)
    pseudo_outer: Optional[float] = None       # also trust steady outer lines this sure
    scene_mix: str = "v2"                      # renderer scene distribution (roadsim.mix.MIXES)
    pseudo_absent: Optional[float] = None      # trust outer slots empty below this existence
    model_version: str = "2"                   # the version written in the model card
    strong_augment: bool = False               # camera warps and weather on the real frames
    hold_out: bool = False                     # keep split.VALIDATION_SETS out of training
    encoder: str = "lanefcn"                   # "lanefcn" or "effnet-lite0" (ImageNet weights)
    freeze_blocks: int = 0                     # effnet-lite0: keep its stem + first N blocks
    erase_outer: float = 0.0                   # real frames with an outer line painted out
    barriers: float = 0.0                      # of those, a wall or guardrail stands there
    aspect_jitter: float = 0.0                 # samples seen at another camera's aspect ratio
    markings: float = 0.0                      # real frames with an arrow, crosswalk... painted on
    thresholds: Optional[tuple] = None         # (lane, exist) fixed instead of chosen


VAL_SEED = 800_000          # the fixed synthetic validation set: seeds VAL_SEED + i
THRESHOLD_SEED = 700_000    # frames that choose the extraction thresholds (not trained on)


def _spec(cfg: TrainConfig) -> ModelSpec:
    return ModelSpec(name="lanefcn", crop_top=cfg.crop_top, version=str(cfg.model_version),
                     input_width=int(cfg.input_size[0]), input_height=int(cfg.input_size[1]))


def _pseudo_folder(cfg: TrainConfig) -> Path:
    return Path(cfg.out) / "pseudo"


# ---- the run ---------------------------------------------------------------------------------
def _compile(model, cfg: TrainConfig, total_steps: int):
    import keras

    from lanecam.tools.train.losses import MaskedExistLoss, SegLoss

    warmup = min(300, total_steps // 10)
    schedule = keras.optimizers.schedules.CosineDecay(
        cfg.lr * 0.1, decay_steps=max(1, total_steps - warmup), alpha=0.02,
        warmup_target=cfg.lr, warmup_steps=warmup)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=cfg.weight_decay, clipnorm=5.0),
        loss={"lane_prob": SegLoss(5, cfg.lane_weight, cfg.dice_weight),
              "lane_exist": MaskedExistLoss()},
        loss_weights={"lane_prob": 1.0, "lane_exist": cfg.exist_weight})


def _reschedule(optimizer, step: int, total: int) -> str:
    """A resume with another epoch count: the learning rate goes on from its present value and
    decays by the same cosine to the new end, so a run cut short (or made longer) still ends
    annealed. Built from Keras's own CosineDecay (saved and loaded like the first schedule):
    its "warm-up" is a flat line at today's rate over the steps already taken."""
    import keras

    now = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(
        now, decay_steps=max(1, total - step), alpha=0.02, warmup_target=now,
        warmup_steps=max(1, step))
    return f"learning rate {now:.2e} at step {step}, decaying to step {total}"


def _load_state(out: Path) -> dict:
    path = out / "state.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot resume: {exc}") from None


def _validation_set(cfg: TrainConfig, spec: ModelSpec):
    """The fixed synthetic validation set (no augmentation), made once in this process."""
    from lanecam.tools.train.data import SampleMaker, SyntheticSource

    src = SyntheticSource(SampleMaker(spec, thickness=cfg.thickness))
    samples = [src(VAL_SEED + i, augment=False) for i in range(cfg.val_count)]
    return tuple(np.stack(a) for a in zip(*samples))


def _validate(model, val, batch: int) -> dict:
    """Validation losses, per-slot IoU of the argmax mask, existence accuracy."""
    from lanecam.tools.evaluate.iou import SlotIoU

    images, segs, exists = val
    iou = SlotIoU(("L2", "L1", "R1", "R2"))
    losses, exist_hits = [], []
    for i in range(0, len(images), batch):
        x = images[i:i + batch].astype(np.float32) / 255.0
        y = {"lane_prob": segs[i:i + batch], "lane_exist": exists[i:i + batch]}
        out = model(x, training=False)
        losses.append(float(model.compute_loss(x=x, y=y, y_pred=out)) * len(x))
        pred = np.asarray(out["lane_prob"]).argmax(-1).astype(np.uint8)
        for p, g in zip(pred, segs[i:i + batch]):
            iou.add(p, g)
        exist_hits.append((np.asarray(out["lane_exist"]) > 0.5) == (exists[i:i + batch] > 0.5))
    slot_iou = iou.result()
    return {"val_loss": sum(losses) / len(images),
            "val_iou": {k: round(v, 4) for k, v in slot_iou.items()},
            "val_miou": round(float(np.nanmean(list(slot_iou.values()))), 4),
            "val_exist_acc": round(float(np.concatenate(exist_hits).mean()), 4)}


def _lane_scores(model, spec: ModelSpec, cfg: TrainConfig) -> dict:
    """TuSimple metric on synthetic 1280x720 frames and, when given, the real TuSimple folder.

    Untimed: the metric's 200 ms rule is about the deployed engine, not Keras on a busy CPU."""
    from lanecam.tools.evaluate.datasets import evaluate_synthetic, evaluate_tusimple
    from lanecam.tools.evaluate.predict import Predictor
    from lanecam.tools.train.keras_engine import InMemoryKerasEngine

    out = {}
    with Predictor(engine=InMemoryKerasEngine(model, spec)) as pred:
        if cfg.synthetic_eval:
            s = evaluate_synthetic(pred, cfg.synthetic_eval, timed=False).score
            out["synthetic"] = {"accuracy": round(s.accuracy, 4), "fp": round(s.fp, 4),
                                "fn": round(s.fn, 4)}
        if cfg.tusimple_eval:
            s = evaluate_tusimple(pred, cfg.tusimple_eval, timed=False).score
            out["tusimple"] = {"accuracy": round(s.accuracy, 4), "fp": round(s.fp, 4),
                               "fn": round(s.fn, 4)}
        if cfg.hold_out and cfg.data_root:
            from lanecam.tools.train.split import is_validation

            s = evaluate_tusimple(pred, cfg.data_root, timed=False, name="tusimple_val",
                                  select=lambda row: is_validation(row["raw_file"])).score
            out["tusimple_val"] = {"accuracy": round(s.accuracy, 4), "fp": round(s.fp, 4),
                                   "fn": round(s.fn, 4)}
    return out


def train(cfg: TrainConfig, resume: bool = False, log=print, epochs_given: bool = True):
    """Train (or resume) a run; returns the trained Keras model (without optimizer state).

    On ``resume`` the run's stored settings are used; only ``cfg.epochs`` may change (train
    for longer), and only when ``epochs_given`` (the caller set it on purpose)."""
    from tqdm import tqdm

    from lanecam.engines.keras_loader import import_tensorflow

    import_tensorflow("training")  # without TensorFlow's start-up lines on stderr
    import keras

    from lanecam.tools.fcn import build_lanefcn

    out = Path(cfg.out)
    start_epoch, history = 0, []
    if resume:
        state = _load_state(out)
        saved = TrainConfig(**{**state["config"], "out": cfg.out})
        if epochs_given:
            saved.epochs = cfg.epochs  # the one setting a resume may change: train for longer
        cfg, start_epoch, history = saved, state["epoch"], state["history"]
        if start_epoch >= cfg.epochs:
            log(f"train: {out} already finished {start_epoch} epochs")
    elif (out / "state.json").exists():
        raise InputError(f"{out}: holds a training run already; use --resume to continue it or "
                         f"choose another --out")
    if cfg.tusimple_eval and not (Path(cfg.tusimple_eval) / "labels.json").is_file():
        raise InputError(f"{cfg.tusimple_eval}: expected a TuSimple folder with labels.json")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot make the run folder ({exc.strerror})") from None
    spec = _spec(cfg)
    keras.utils.set_random_seed(cfg.seed)
    total = cfg.epochs * cfg.steps
    if resume and start_epoch:
        import lanecam.tools.train.losses  # noqa: F401  registers SegLoss, which the checkpoint names

        # the run's own checkpoint, still checked like every model: no Lambda code runs
        refuse_code_layers(out / "last.keras")
        model = keras.saving.load_model(out / "last.keras")
        _compile_if_needed = model.optimizer is None
        if _compile_if_needed:
            _compile(model, cfg, total)
        elif epochs_given and state["config"]["epochs"] != cfg.epochs:
            log("train: " + _reschedule(model.optimizer, start_epoch * cfg.steps, total))
    else:
        model = build_lanefcn(_net_config(cfg, spec), encoder=cfg.encoder)
        if cfg.freeze_blocks:
            from lanecam.tools.fcn.effnet import freeze_lite0

            log(f"train: {freeze_lite0(model, cfg.freeze_blocks)} encoder layers frozen")
        if cfg.init_from:
            from lanecam.tools.train.warmstart import warm_start

            log(f"train: warm start from {cfg.init_from}: " + warm_start(model, cfg.init_from))
        _compile(model, cfg, total)
    log(f"train: LaneFCN {model.count_params():,} parameters, {cfg.epochs} epochs x "
        f"{cfg.steps} steps x {cfg.batch} samples, crop_top {cfg.crop_top}, seed {cfg.seed}, "
        f"{cfg.workers} sample workers -> {out}")
    val = _validation_set(cfg, spec)
    pseudo = None
    if cfg.pseudo_videos:
        from lanecam.tools.train.pseudo import ensure_pseudo_labels

        pseudo = _pseudo_folder(cfg)
        ensure_pseudo_labels(cfg.pseudo_videos, pseudo, cfg.teacher, log=log,
                             outer_min_exists=cfg.pseudo_outer, absent_below=cfg.pseudo_absent)
    _check_real_sources(spec, cfg, pseudo)

    init = (spec.to_dict(), cfg.thickness, _real_labels(cfg), cfg.data_root or ".",
            str(pseudo) if pseudo else None, cfg.pseudo_night, cfg.scene_mix,
            cfg.strong_augment, cfg.hold_out, _own_labels(cfg), cfg.erase_outer,
            cfg.barriers, cfg.aspect_jitter, cfg.markings)
    pool = start_pool(cfg.workers, init)
    try:
        for epoch in range(start_epoch, cfg.epochs):
            t0 = time.perf_counter()
            bar = tqdm(Batches(pool, cfg, epoch), total=cfg.steps, unit="step",
                       desc=f"epoch {epoch + 1}/{cfg.epochs}", dynamic_ncols=True)
            run_loss = None
            for images, segs, exists in bar:
                logs = model.train_on_batch(images.astype(np.float32) / 255.0,
                                            {"lane_prob": segs, "lane_exist": exists},
                                            return_dict=True)
                loss = float(logs["loss"])
                run_loss = loss if run_loss is None else 0.95 * run_loss + 0.05 * loss
                bar.set_postfix(loss=f"{run_loss:.4f}")
            bar.close()
            record = {"epoch": epoch + 1, "train_loss": round(run_loss, 5),
                      "train_s": round(time.perf_counter() - t0, 1)}
            record.update(_validate(model, val, cfg.batch))
            record.update(_lane_scores(model, spec, cfg))
            record["epoch_s"] = round(time.perf_counter() - t0, 1)
            history.append(record)
            # checkpoint and state are renamed into place whole: a kill mid-write keeps the last
            with atomic_path(out / "last.keras", "--out") as partial:
                model.save(partial)
            state = {"config": asdict(cfg), "epoch": epoch + 1, "history": history}
            write_atomic(out / "state.json", json.dumps(state, indent=1), "--out")
            with open(out / "history.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            log("train: " + _summary(record))
    finally:
        # the batches made ahead are dropped; a running one finishes (a second or two)
        pool.shutdown(wait=True, cancel_futures=True)

    final = build_lanefcn(_net_config(cfg, spec), encoder=cfg.encoder, pretrained=False)
    final.set_weights(model.get_weights())
    if cfg.thresholds is not None:
        spec = spec.replace(lane_threshold=cfg.thresholds[0], exist_threshold=cfg.thresholds[1])
        log(f"thresholds: fixed at lane {cfg.thresholds[0]:.2f}, exist {cfg.thresholds[1]:.2f}")
    elif cfg.threshold_frames:
        from lanecam.tools.train.keras_engine import InMemoryKerasEngine
        from lanecam.tools.train.thresholds import choose_thresholds

        seeds = range(THRESHOLD_SEED, THRESHOLD_SEED + cfg.threshold_frames)
        with InMemoryKerasEngine(final, spec) as engine:
            spec = choose_thresholds(engine, spec, seeds, log=log,
                                     real_frames=validation_frames(cfg))
    final.save(out / "model.keras")
    spec.save(out / "model.spec.json")
    return final, spec


def validation_frames(cfg: TrainConfig) -> list:
    """(BGR frame, label row) of the held-out real frames (``split.py``), or [] when the run
    holds none out."""
    if not (cfg.hold_out and cfg.data_root):
        return []
    from lanecam.tools.evaluate.datasets import load_tusimple
    from lanecam.tools.evaluate.predict import read_image
    from lanecam.tools.train.split import is_validation

    root = Path(cfg.data_root)
    rows = load_tusimple(root, select=lambda row: is_validation(row["raw_file"]))
    return [(read_image(root / row["raw_file"]), row) for row in rows]


def _net_config(cfg: TrainConfig, spec: ModelSpec):
    from lanecam.tools.fcn import LaneFCNConfig

    return LaneFCNConfig(input_height=spec.input_height, input_width=spec.input_width,
                         widths=tuple(cfg.widths), decoder_width=cfg.decoder_width)


def _culane_labels(cfg: TrainConfig) -> Path:
    """Where the run keeps its CULane folders' labels, converted to TuSimple rows."""
    return Path(cfg.out) / "culane" / "labels.json"


def _real_labels(cfg: TrainConfig) -> List[str]:
    """Every labelled real-data file of the run: TuSimple label files, then the converted
    CULane labels (absolute image paths: any root serves them)."""
    return list(cfg.data_labels) + ([str(_culane_labels(cfg))] if cfg.culane else [])


def _own_labels(cfg: TrainConfig) -> List[str]:
    """The label files of ``_real_labels`` that this run wrote itself (the converted CULane
    labels, whose image paths are absolute): the others must name images inside the root."""
    return [str(_culane_labels(cfg))] if cfg.culane else []


def _check_real_sources(spec: ModelSpec, cfg: TrainConfig, pseudo: Optional[Path]) -> None:
    """Make every real-data source once here (converting CULane folders first): a bad label
    file is one line now, not a worker initializer failing over and over inside the pool."""
    from lanecam.tools.train.data import SampleMaker, TuSimpleSource

    maker = SampleMaker(spec, thickness=cfg.thickness)
    if cfg.culane:
        from lanecam.tools.train.data import culane_to_tusimple

        culane_to_tusimple([Path(p) for p in cfg.culane], _culane_labels(cfg))
    if _real_labels(cfg):
        TuSimpleSource(maker, [Path(p) for p in _real_labels(cfg)], Path(cfg.data_root or "."),
                       skip_validation=cfg.hold_out, own_labels=_own_labels(cfg))
    if pseudo is not None:
        TuSimpleSource(maker, [pseudo / "labels.json"], pseudo)


def _summary(r: dict) -> str:
    parts = [f"epoch {r['epoch']}", f"loss {r['train_loss']:.4f}", f"val {r['val_loss']:.4f}",
             f"mIoU {r['val_miou']:.3f}", f"exist {r['val_exist_acc']:.3f}"]
    for name in ("synthetic", "tusimple", "tusimple_val"):
        if name in r:
            parts.append(f"{name} acc {r[name]['accuracy']:.3f} fp {r[name]['fp']:.3f} "
                         f"fn {r[name]['fn']:.3f}")
    parts.append(f"{r['epoch_s']:.0f} s")
    return ", ".join(parts)


def check_config(cfg: TrainConfig) -> None:
    """Refuse impossible settings with one line each."""
    for name in ("epochs", "steps", "batch", "workers", "val_count", "decoder_width"):
        if getattr(cfg, name) < 1:
            raise InputError(f"--{name.replace('_', '-')}: expected a positive integer, got "
                             f"{getattr(cfg, name)}")
    for name in ("threshold_frames", "synthetic_eval"):
        if getattr(cfg, name) < 0:
            raise InputError(f"--{name.replace('_', '-')}: expected 0 or more, got "
                             f"{getattr(cfg, name)}")
    if not 0 <= cfg.seed < 2**32:   # numpy's seeds
        raise InputError(f"--seed: expected 0 to {2**32 - 1}, got {cfg.seed}")
    if Path(cfg.out).exists() and not Path(cfg.out).is_dir():
        raise InputError(f"--out {cfg.out}: expected a run folder, found a file")
    if not 0.0 <= cfg.crop_top < 0.9:
        raise InputError(f"--crop-top: expected a fraction in [0, 0.9), got {cfg.crop_top}")
    if cfg.data_labels and not cfg.data_root:
        raise InputError("--tusimple-labels needs --tusimple-root (the image folder the raw_file "
                         "paths are relative to)")
    for name in ("pseudo_outer", "pseudo_absent"):
        value = getattr(cfg, name)
        if value is not None and not 0.0 < value <= 1.0:
            raise InputError(f"--{name.replace('_', '-')}: expected an existence in (0, 1], "
                             f"got {value}")
    from lanecam.pipeline.roadsim.mix import mix_named

    mix_named(cfg.scene_mix, "--scene-mix")
    if not 0.0 <= cfg.exist_weight <= 100.0:
        raise InputError(f"--exist-weight: expected a weight in [0, 100], got {cfg.exist_weight}")
    for name in ("real_fraction", "pseudo_fraction", "pseudo_night", "erase_outer",
                 "barriers", "aspect_jitter", "markings"):
        if not 0.0 <= getattr(cfg, name) <= 1.0:
            raise InputError(f"--{name.replace('_', '-')}: expected a fraction in [0, 1], got "
                             f"{getattr(cfg, name)}")
    if cfg.barriers > 0 and cfg.erase_outer == 0:
        raise InputError("--barriers: a barrier stands where an outer line was painted out; "
                         "expected --erase-outer above 0 with it")
    real = cfg.real_fraction if (cfg.data_labels or cfg.culane) else 0.0
    pseudo = cfg.pseudo_fraction if cfg.pseudo_videos else 0.0
    if real + pseudo > 1.0:
        raise InputError("--real-fraction + --pseudo-fraction: expected at most 1 together")
    if cfg.teacher and not Path(cfg.teacher).is_file():
        raise InputError(f"{cfg.teacher}: --teacher expected a model file")
    for video in cfg.pseudo_videos:
        if not Path(video).is_file():
            raise InputError(f"{video}: --pseudo-videos expected a video file")
    for folder in cfg.culane:
        if not Path(folder).is_dir():
            raise InputError(f"{folder}: --culane expected a folder of CULane frames")
    if cfg.init_from and not Path(cfg.init_from).is_file():
        raise InputError(f"{cfg.init_from}: --init-from expected a saved LaneFCN (.keras)")
    if cfg.hold_out and not (cfg.data_root and (Path(cfg.data_root) / "labels.json").is_file()):
        raise InputError("--hold-out: expected --tusimple-root to be a TuSimple folder with its "
                         "labels.json (the validation split is read from it)")
    if cfg.freeze_blocks and cfg.encoder != "effnet-lite0":
        raise InputError("--freeze-blocks: only with --encoder effnet-lite0")
    if not 0 <= cfg.freeze_blocks <= 11:
        raise InputError(f"--freeze-blocks: expected 0 to 11 (Lite0's blocks), got "
                         f"{cfg.freeze_blocks}")
    if not cfg.lr > 0:
        raise LanecamError(f"--lr: expected > 0, got {cfg.lr}")
