"""Markdown tables of the convolutionalization experiment's JSON (``experiment --report``).

Every number is printed as the JSON holds it (accuracies to three decimals in the main table,
the rest unrounded), so ``docs/convolutionalization.md`` can quote the tables verbatim.
"""

from typing import Dict, List

__all__ = ["markdown_tables", "why_tables", "MODEL_NAMES"]

MODEL_NAMES = {"dense": "seed's Dense classifier",
               "seed_conv": "seed's convolutionalized model, from scratch",
               "conv_from_dense": "Dense convolutionalized (exact copy), trained on",
               "dense_continued": "Dense trained on (control: fresh optimiser)",
               "gap": "1x1 conv + global average pooling"}


def _table(header: List[str], rows: List[List[object]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return lines


def markdown_tables(results: dict) -> str:
    """The accuracy table (mean and range over seeds) of the main runs, as Markdown."""
    cfg = results["config"]
    lines = [f"Test accuracy after {cfg['epochs']} epochs (batch {cfg['batch']}, "
             f"{cfg['train_patches']} training / {cfg['test_patches']} test patches), "
             f"seeds {cfg['seeds']}:", "",
             "| model | optimiser | mean | min | max | at copy | s / run |",
             "|---|---|---|---|---|---|---|"]
    for row in results["summary"]:
        at_copy = "" if row["at_copy_mean"] is None else f"{row['at_copy_mean']:.3f}"
        lines.append(f"| {MODEL_NAMES.get(row['model'], row['model'])} | {row['optimizer']} | "
                     f"{row['final_mean']:.3f} | {row['final_min']:.3f} | "
                     f"{row['final_max']:.3f} | {at_copy} | {row['seconds_mean']:.0f} |")
    return "\n".join(lines)


def _per_seed(results: dict) -> List[str]:
    rows = [[MODEL_NAMES.get(r["model"], r["model"]), r["optimizer"], r["seed"],
             ", ".join(str(v) for v in r["curve"]), r["train_accuracy"], r.get("at_copy"),
             r.get("dead_units")] for r in results["runs"]]
    return ["Per run: test accuracy after each epoch, training accuracy (first 1000 patches), "
            "accuracy at copy, fraction of dead units of the big ReLU layer after training:", ""] \
        + _table(["model", "optimiser", "seed", "test accuracy per epoch", "train", "at copy",
                  "dead"], rows)


def _softmax(why: Dict) -> List[str]:
    mis = why["mis_sized_kernel"]
    lines = ["Softmax scope. Seed's conv model at its training size (1x1 map): max |Flatten -> "
             "softmax - softmax over the class channels| = "
             + ", ".join(f"{v} ({k})" for k, v in why["softmax_1x1_max_abs_diff"].items()) + ".",
             "",
             f"Whole-map kernel sized {mis['kernel']} on the `same`-padded trunk: map before "
             f"Flatten {mis['map_before_flatten']}, softmax over {mis['softmax_over']} values; "
             f"training on (N, 2) labels: ``{mis['keras_error']}``.", "",
             "Trained Dense classifier (seed 0) convolutionalized and run over whole road strips, "
             "per-cell decisions p(lane) > 0.5:", ""]
    rows = [[opt, d["cells"], d["lane_cells"], d["channel_balanced_accuracy"],
             d["channel_lane_recall"], d["channel_mean_cell_prob_sum"],
             d["flat_balanced_accuracy"], d["flat_lane_recall"], d["flat_mean_cell_prob_sum"]]
            for opt, d in why["dense_map_softmax"].items()]
    return lines + _table(["optimiser", "cells", "lane cells",
                           "per-cell softmax: balanced acc.", "lane recall", "mean prob sum",
                           "Flatten -> softmax: balanced acc.", "lane recall",
                           "mean prob sum"], rows)


def _channel_order(why: Dict) -> List[str]:
    rows = [[opt, r["order"], r["test_accuracy"], r["max_abs_diff"]]
            for opt, rs in why["channel_order"].items() for r in rs]
    trained = why["channels_first_copy_trained"]
    return (["Dense kernel (seed 0) copied into the whole-map convolution in three orders, no "
             "training:", ""]
            + _table(["optimiser", "order", "test accuracy", "max abs diff from Dense"], rows)
            + ["", f"The channels_first copy trained on ({trained['optimizer']}, seed "
                   f"{trained['seed']}), test accuracy per epoch: "
                   + ", ".join(str(v) for v in trained["curve"]) + "."])


def _init(why: Dict, results: dict) -> List[str]:
    rows = [[key, g["dense_fan_in"], g["dense_limit"], g["conv_fan_in"], g["conv_fan_out"],
             g["conv_limit"], g["conv_limit_if_dense"], g["dense_weights"], g["conv_weights"]]
            for key, g in why["glorot"].items()]
    s = why["init_stats"]
    stats = [[case, s[f"{key}_weight_std"], s[f"{key}_preact_std"], s[f"{key}_dead_at_init"]]
             for case, key in (("Dense", "dense"), ("whole-map conv, Keras init", "conv"),
                               ("whole-map conv, Dense-like init", "conv_dense_like_init"))]
    runs = why["seed_conv_dense_like_init"]
    opt = runs[0]["optimizer"] if runs else ""
    keras_init = {r["seed"]: r["final"] for r in results["runs"]
                  if r["model"] == "seed_conv" and r["optimizer"] == opt}
    rows_init = [[r["seed"], opt, keras_init.get(r["seed"]), r["final"],
                  ", ".join(str(v) for v in r["curve"])] for r in runs]
    return (["GlorotUniform limits (`patch`: this experiment's 24x24 patches; `seed_scale_224`: a "
             "224x224 input):", ""]
            + _table(["input", "Dense fan-in", "Dense limit", "conv fan-in", "conv fan-out",
                      "conv limit", "conv limit if Dense-like", "Dense weights", "conv weights"],
                     rows)
            + ["", "Untrained models (seed 0) on 500 test patches, the big layer:", ""]
            + _table(["layer", "weight std", "pre-activation std", "dead units"], stats)
            + ["", "The seed's conv model trained from scratch with the Dense-like initialisation "
                   "of its whole-map kernel (the optimiser that did worst for it):", ""]
            + _table(["seed", "optimiser", "final, Keras init", "final, Dense-like init",
                      "Dense-like init, per epoch"], rows_init))


def _shock(why: Dict) -> List[str]:
    rows = [[s["case"], s["optimizer"], s.get("seed"), s["steps"], s["fan_in"],
             s["relative_change"], s["mean_weight_step"], s["dead_before"], s["dead_after"]]
            for s in why["optimizer_shock"]]
    return (["A fresh optimiser's first steps (batch 32): std of the change of the big ReLU "
             "layer's pre-activations over their std before, and its dead units:", ""]
            + _table(["case", "optimiser", "seed", "steps", "fan-in", "relative change",
                      "mean abs weight step", "dead before", "dead after"], rows))


def why_tables(results: dict) -> str:
    """The per-run curves and the tables of the experiments testing each explanation."""
    why = results["why"]
    parts = [_per_seed(results), _softmax(why), _channel_order(why), _init(why, results),
             _shock(why)]
    return "\n\n".join("\n".join(p) for p in parts)
