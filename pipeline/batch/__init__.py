"""``lanecam batch``: a whole archive of recorded drives, on one machine or a Ray cluster.

Each video (or image sequence) is one Ray task running the ``lanecam run`` pipeline on one
worker that loaded the model once; per-frame lanes are written as Parquet (one file per
video, renamed into place when complete), a done-ledger lets a rerun skip finished videos,
and a summary table lists every video with its status.

Modules: ``inputs`` (what the INPUTs name), ``ledger`` (what is done), ``layout`` (where
outputs go and how they become final), ``parquet`` (the per-frame schema and sink),
``worker`` (one model, many videos; no Ray), ``cluster`` (Ray: start or join, actors,
retries), ``watchdog`` (a local Ray ends with a killed driver), ``report`` (progress,
summary table), ``app`` (the command). Nothing here imports Ray or pyarrow at module level.
"""

from lanecam.pipeline.batch.inputs import BadInput, VideoJob, discover
from lanecam.pipeline.batch.layout import Layout
from lanecam.pipeline.batch.ledger import Ledger, model_identity, video_key

__all__ = ["discover", "VideoJob", "BadInput", "Layout", "Ledger", "model_identity", "video_key"]
