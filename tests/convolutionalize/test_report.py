"""``experiment --report``: the Markdown tables quote the JSON's numbers as they are."""

from experiments.convolutionalization.exp_report import markdown_tables, why_tables


def _results():
    run = {"model": "seed_conv", "optimizer": "adadelta", "seed": 0, "final": 0.8611,
           "curve": [0.7778, 0.8611], "train_accuracy": 0.894, "dead_units": 0.19140625}
    glorot = {"dense_fan_in": 3200, "dense_limit": 0.04246038878042234, "conv_fan_in": 4608,
              "conv_fan_out": 36864, "conv_limit": 0.012028130608117204,
              "conv_limit_if_dense": 0.03512196793431352, "dense_weights": 409600,
              "conv_weights": 1179648}
    stats = {f"{k}_{m}": 0.5 for k in ("dense", "conv", "conv_dense_like_init")
             for m in ("weight_std", "preact_std", "dead_at_init")}
    return {
        "config": {"epochs": 2, "batch": 32, "train_patches": 10, "test_patches": 4,
                   "seeds": [0]},
        "summary": [{"model": "seed_conv", "optimizer": "adadelta", "final_mean": 0.8611,
                     "final_min": 0.8611, "final_max": 0.8611, "at_copy_mean": None,
                     "seconds_mean": 40.8}],
        "runs": [run],
        "why": {"softmax_1x1_max_abs_diff": {"adadelta": 1.2e-07},
                "mis_sized_kernel": {"kernel": [10, 10], "map_before_flatten": [3, 3, 2],
                                     "softmax_over": 18, "keras_error": "ValueError: x"},
                "dense_map_softmax": {"adadelta": {
                    "cells": 9, "lane_cells": 3, "channel_balanced_accuracy": 0.8732,
                    "channel_lane_recall": 0.7792, "channel_mean_cell_prob_sum": 1.0,
                    "flat_balanced_accuracy": 0.5, "flat_lane_recall": 0.0,
                    "flat_mean_cell_prob_sum": 0.000292}},
                "channel_order": {"adadelta": [{"order": "channels_first (c, h, w)",
                                                "test_accuracy": 0.5, "max_abs_diff": 0.927}]},
                "channels_first_copy_trained": {"optimizer": "adadelta", "seed": 0,
                                                "curve": [0.8651, 0.8889]},
                "glorot": {"patch": glorot}, "init_stats": stats,
                "seed_conv_dense_like_init": [{"seed": 0, "optimizer": "adadelta",
                                               "curve": [0.628, 0.873], "final": 0.873}],
                "optimizer_shock": [{"case": "untrained seed conv 24x24",
                                     "optimizer": "adadelta", "seed": 1, "steps": 10,
                                     "fan_in": 4608, "relative_change": 1.7,
                                     "mean_weight_step": 0.000325, "dead_before": 0.09375,
                                     "dead_after": 0.46484375}]},
    }


def test_tables_quote_the_numbers_and_stay_tables():
    text = markdown_tables(_results()) + "\n" + why_tables(_results())
    for number in ("0.861", "0.46484375", "0.04246038878042234", "0.000292", "0.8651, 0.8889",
                   "| 0 | adadelta | 0.8611 | 0.873 |"):
        assert number in text
    for block in text.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows:  # every row of a table has as many cells as its header
            assert len({line.count("|") for line in rows}) == 1, block
