"""The seed question settled by measurement: Dense head vs its convolutional versions.

    nice -n 19 python -m experiments.convolutionalization.experiment \
        --out docs/convolutionalization_results.json

(from the repository root, with the ``[train]`` extra installed).

Lane / no-lane patches from the road renderer; the seed's Dense classifier, the seed's
convolutionalized model trained from scratch, the Dense model convolutionalized (exact weight
copy) and trained on, the Dense model trained on (the control for a fresh optimiser), and the
answer's 1x1-conv + global pooling model; each with the same epochs, batch, patches and seeds,
under two optimisers. Then the experiments that test each explanation (``exp_why``). Writes
every number to the JSON file and prints the tables.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from experiments.convolutionalization.exp_report import markdown_tables, why_tables

__all__ = ["main", "markdown_tables"]


def _args(argv):
    p = argparse.ArgumentParser(prog="python -m experiments.convolutionalization.experiment",
                                description=__doc__.strip().splitlines()[0])
    p.add_argument("--out", default="docs/convolutionalization_results.json",
                   help="JSON file for every measured number")
    p.add_argument("--seeds", default="0,1,2", help="training seeds (0,1,2)")
    p.add_argument("--epochs", type=int, default=5, help="epochs per training run (5)")
    p.add_argument("--optimizers", default="adadelta,adam", help="adadelta (lr 1.0), adam")
    p.add_argument("--train-frames", type=int, default=220, help="frames for training patches")
    p.add_argument("--test-frames", type=int, default=90, help="frames for test patches")
    p.add_argument("--map-frames", type=int, default=20, help="whole frames for the dense map")
    p.add_argument("--save-dense", metavar="PATH.keras",
                   help="also save the first optimiser's seed-0 Dense classifier (for "
                        "`lanecam convolutionalize` and `lanecam run --heatmap`)")
    p.add_argument("--quick", action="store_true", help="a tiny run to check the script")
    p.add_argument("--report", metavar="RESULTS.json",
                   help="print the Markdown tables of an earlier run's JSON and exit")
    p.add_argument("--all-tables", action="store_true",
                   help="with --report: also the per-run curves and the explanation tables")
    args = p.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs, args.train_frames, args.test_frames = "0", 1, 20, 10
        args.map_frames = 2
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.optimizers = args.optimizers.split(",")
    return args


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _row(model: str, opt: str, seed: int, fit_result, **extra) -> dict:
    row = {"model": model, "optimizer": opt, "seed": seed, "final": fit_result.final,
           "best": max(fit_result.curve), "curve": fit_result.curve,
           "train_accuracy": fit_result.train_accuracy, "seconds": fit_result.seconds}
    row.update(extra)
    return row


def _main_runs(data, args, keep: dict) -> list:
    """The table: every model, optimiser and seed with the same budget."""
    import keras

    from experiments.convolutionalization.exp_train import accuracy, dead_units, fit
    from experiments.convolutionalization.seed_models import gap_model, seed_conv, seed_dense
    from lanecam.tools.convolutionalize import convolutionalize

    shape = data.x_train.shape[1:]
    rows = []
    for opt in args.optimizers:
        for seed in args.seeds:
            keras.utils.set_random_seed(seed)
            dense = seed_dense(shape, seed=seed)
            dense_layer = [ly.name for ly in dense.layers if type(ly).__name__ == "Dense"][0]
            r = fit(dense, data, args.epochs, opt, seed)
            rows.append(_row("dense", opt, seed, r,
                             dead_units=dead_units(dense, dense_layer, data.x_test)))
            _log(f"{opt} seed {seed}: dense {r.curve} ({r.seconds} s)")
            result = convolutionalize(dense)
            conv = result.model
            at_copy = accuracy(conv, data.x_test, data.y_test)
            keras.utils.set_random_seed(seed)
            continued = keras.models.clone_model(dense)
            continued.set_weights(dense.get_weights())
            keep.setdefault(opt, {})[seed] = {"dense": dense}
            r = fit(conv, data, args.epochs, opt, seed)
            rows.append(_row("conv_from_dense", opt, seed, r, at_copy=round(at_copy, 4),
                             copy_max_abs_diff=result.same_size_diff,
                             dead_units=dead_units(conv, f"{dense_layer}_conv", data.x_test)))
            _log(f"{opt} seed {seed}: conv from dense {at_copy:.4f} -> {r.curve}")
            r = fit(continued, data, args.epochs, opt, seed)
            rows.append(_row("dense_continued", opt, seed, r, at_copy=round(at_copy, 4),
                             dead_units=dead_units(continued, dense_layer, data.x_test)))
            _log(f"{opt} seed {seed}: dense continued -> {r.curve}")
            keras.utils.set_random_seed(seed)
            sc = seed_conv(shape, seed=seed)
            r = fit(sc, data, args.epochs, opt, seed)
            rows.append(_row("seed_conv", opt, seed, r,
                             dead_units=dead_units(sc, "whole_map_conv", data.x_test)))
            keep[opt][seed]["seed_conv"] = sc
            _log(f"{opt} seed {seed}: seed conv {r.curve} ({r.seconds} s)")
            keras.utils.set_random_seed(seed)
            gm = gap_model(shape, seed=seed)
            r = fit(gm, data, args.epochs, opt, seed)
            rows.append(_row("gap", opt, seed, r))
            _log(f"{opt} seed {seed}: 1x1 conv + GAP {r.curve}")
    return rows


def _worst_optimizer(rows, model: str) -> str:
    means = {}
    for row in rows:
        if row["model"] == model:
            means.setdefault(row["optimizer"], []).append(row["final"])
    return min(means, key=lambda k: np.mean(means[k]))


def _why(data, args, keep: dict, rows: list) -> dict:
    """The explanations, each tested (see the module docs of exp_why)."""
    import cv2
    import keras

    from experiments.convolutionalization import exp_why as W
    from experiments.convolutionalization.exp_train import fit
    from experiments.convolutionalization.patches import PatchConfig
    from experiments.convolutionalization.seed_models import seed_conv, seed_dense
    from lanecam.pipeline.roadsim import random_frame
    from lanecam.tools.convolutionalize import convolutionalize

    patch = data.x_train.shape[1]
    opt0, seed0 = args.optimizers[0], args.seeds[0]
    dense0 = keep[opt0][seed0]["dense"]
    out = {}
    out["softmax_1x1_max_abs_diff"] = {
        opt: W.softmax_scope_1x1(keep[opt][seed0]["seed_conv"], data.x_test)
        for opt in args.optimizers}
    out["mis_sized_kernel"] = W.mis_sized_kernel(patch)
    map_seeds = range(200_000, 200_000 + args.map_frames)
    out["dense_map_softmax"] = {
        opt: W.dense_map_softmax(keep[opt][seed0]["dense"], map_seeds, PatchConfig(),
                                 random_frame) for opt in args.optimizers}
    _log(f"softmax scope: {out['dense_map_softmax']}")
    out["channel_order"] = {opt: W.channel_order(keep[opt][seed0]["dense"], data)
                            for opt in args.optimizers}
    wrong = W.wrongly_copied(dense0, "channels_first (c, h, w)")
    r = fit(wrong, data, args.epochs, opt0, seed0)
    out["channels_first_copy_trained"] = {"optimizer": opt0, "seed": seed0, "curve": r.curve}
    _log(f"channel order: {out['channel_order']}; wrong copy trained {r.curve}")
    out["glorot"] = {"patch": W.glorot_limits(patch), "seed_scale_224": W.glorot_limits(224)}
    out["init_stats"] = W.init_stats(patch, data.x_test[:500], seed0)
    worst = _worst_optimizer(rows, "seed_conv")
    init_rows = []
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        model = seed_conv(data.x_train.shape[1:], seed=seed,
                          big_kernel_initializer=W.dense_like_initializer(patch, seed))
        r = fit(model, data, args.epochs, worst, seed)
        init_rows.append({"seed": seed, "optimizer": worst, "curve": r.curve, "final": r.final})
        _log(f"seed conv, Dense-like init, {worst}, seed {seed}: {r.curve}")
    out["seed_conv_dense_like_init"] = init_rows
    shocks = []
    dense_layer = [ly.name for ly in dense0.layers if type(ly).__name__ == "Dense"][0]
    conv0 = convolutionalize(dense0).model
    for opt in args.optimizers:  # a restart: the Dense model and its exact conv copy
        shocks.append({"case": f"trained dense {patch}x{patch}, restart", "optimizer": opt,
                       "seed": seed0, "steps": 1,
                       **W.optimizer_shock(dense0, dense_layer, data.x_test, data.y_test, opt, 1)})
        shocks.append({"case": f"its conv copy {patch}x{patch}, restart", "optimizer": opt,
                       "seed": seed0, "steps": 1,
                       **W.optimizer_shock(conv0, f"{dense_layer}_conv", data.x_test,
                                           data.y_test, opt, 1)})
    xs, ys = data.x_test[:320], data.y_test[:320]
    for scale in (1, 3):  # a fresh start at two fan-ins (patches upscaled 3x for the second)
        size = patch * scale
        x = xs if scale == 1 else np.stack([cv2.resize(p, (size, size),
                                                       interpolation=cv2.INTER_LINEAR)
                                            for p in xs])
        for seed in args.seeds[:2]:
            for case, model, layer in _fresh_models(size, seed, W, seed_dense, seed_conv):
                shocks.append({"case": f"untrained {case} {size}x{size}", "optimizer": opt0,
                               "seed": seed, "steps": 10,
                               **W.optimizer_shock(model, layer, x, ys, opt0, 10, seed)})
                _log(f"shock: {shocks[-1]}")
    out["optimizer_shock"] = shocks
    _log("optimizer shock: " + "; ".join(f"{s['case']} {s['optimizer']} {s['steps']}: "
                                         f"{s['relative_change']}" for s in shocks))
    return out


def _fresh_models(size: int, seed: int, W, seed_dense, seed_conv):
    """(case, untrained model, its big ReLU layer): the Dense classifier, the seed's conv model
    with Keras's initialisation and with a Dense-like one."""
    import keras

    keras.utils.set_random_seed(seed)
    dense = seed_dense((size, size, 3), seed=seed)
    yield "dense", dense, [ly.name for ly in dense.layers if type(ly).__name__ == "Dense"][0]
    keras.utils.set_random_seed(seed)
    yield "seed conv", seed_conv((size, size, 3), seed=seed), "whole_map_conv"
    keras.utils.set_random_seed(seed)
    yield ("seed conv, Dense-like init",
           seed_conv((size, size, 3), seed=seed,
                     big_kernel_initializer=W.dense_like_initializer(size, seed)), "whole_map_conv")


def _summary(rows) -> list:
    table = {}
    for row in rows:
        key = (row["model"], row["optimizer"])
        table.setdefault(key, []).append(row)
    lines = []
    for (model, opt), rs in table.items():
        finals = [r["final"] for r in rs]
        lines.append({"model": model, "optimizer": opt, "seeds": [r["seed"] for r in rs],
                      "final_mean": round(float(np.mean(finals)), 4),
                      "final_min": min(finals), "final_max": max(finals),
                      "at_copy_mean": (round(float(np.mean([r["at_copy"] for r in rs])), 4)
                                       if "at_copy" in rs[0] else None),
                      "seconds_mean": round(float(np.mean([r["seconds"] for r in rs])), 1)})
    return lines


def main(argv=None) -> int:
    """Run everything; returns 0. Prints progress to stderr and the tables to stdout."""
    args = _args(argv)
    if args.report:
        results = json.loads(Path(args.report).read_text())
        print(markdown_tables(results))
        if args.all_tables:
            print("\n" + why_tables(results))
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    t0 = time.perf_counter()
    from experiments.convolutionalization.exp_train import Data
    from experiments.convolutionalization.patches import PatchConfig, make_patches

    cfg = PatchConfig()
    x_tr, y_tr = make_patches(range(args.train_frames), cfg)
    x_te, y_te = make_patches(range(100_000, 100_000 + args.test_frames), cfg)
    data = Data(x_tr, y_tr, x_te, y_te)
    t_data = time.perf_counter() - t0
    _log(f"patches: {len(x_tr)} train, {len(x_te)} test ({t_data:.0f} s)")
    keep: dict = {}
    rows = _main_runs(data, args, keep)
    why = _why(data, args, keep, rows)
    if args.save_dense:
        keep[args.optimizers[0]][args.seeds[0]]["dense"].save(args.save_dense)
    results = {
        "command": ("python -m experiments.convolutionalization.experiment "
                    + " ".join(argv or sys.argv[1:])),
        "config": {"patch": cfg.__dict__, "seeds": args.seeds, "epochs": args.epochs,
                   "batch": 32, "optimizers": args.optimizers,
                   "train_patches": int(len(x_tr)), "test_patches": int(len(x_te)),
                   "train_frames": args.train_frames, "test_frames": args.test_frames},
        "summary": _summary(rows), "runs": rows, "why": why,
        "seconds": {"patches": round(t_data, 1), "total": round(time.perf_counter() - t0, 1)},
        "load_average_at_end": list(os.getloadavg()), "cpu_count": os.cpu_count(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(markdown_tables(results))
    print(f"total {results['seconds']['total']} s; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
