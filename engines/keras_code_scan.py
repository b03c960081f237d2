"""Find layers that carry Python code in a saved Keras model, without deserialising anything.

A ``Lambda`` layer stores its function as marshalled bytecode (tf-keras ``.h5``) or a pickled
``__lambda__`` (Keras 3). Loading such a model runs that code: tf-keras's HDF5 loader does it
even where Keras 3's ``safe_mode`` refused the same file. So the loader reads the model's
configuration as plain JSON first (h5py attribute, zip member, protobuf bytes) and refuses the
model before any Keras code sees it. The configuration is walked recursively, so a Lambda
nested in a Functional, Sequential, TimeDistributed or Bidirectional config is found too.

Which configuration is read follows the format decided once by ``keras_file.KerasFile`` from
the file's first bytes (never its name): the HDF5 ``model_config`` of an HDF5 file, the
``config.json`` of a zip, read through the same open file the loader then loads from.
"""

import os
import re
from pathlib import Path
from typing import Iterator, List, Optional

from lanecam.engines.keras_file import KerasFile
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.safe_load import json_loads

__all__ = ["code_layers", "code_layers_in", "TRUST_ENV", "trust_from_env", "refuse_code_layers", "add_trust_flag",
           "apply_trust_flag"]

TRUST_ENV = "LANECAM_TRUST_MODEL_CODE"
# class names whose config holds executable code (Keras 3 serialises a lambda as "__lambda__")
_CODE_CLASSES = {"Lambda", "__lambda__"}


def trust_from_env() -> bool:
    """True when ``$LANECAM_TRUST_MODEL_CODE`` is 1 (or true/yes)."""
    return os.environ.get(TRUST_ENV, "").strip().lower() in ("1", "true", "yes")


def _walk(node) -> Iterator[str]:
    """Names of the code-carrying layers anywhere in a JSON config tree."""
    if isinstance(node, dict):
        cls = node.get("class_name")
        cfg = node.get("config") if isinstance(node.get("config"), dict) else {}
        if cls in _CODE_CLASSES or node.get("function_type") == "lambda":
            yield str(cfg.get("name") or node.get("name") or cls)
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _json(text, path: Path, what: str):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        return json_loads(text, f"{path}: its {what}")
    except ValueError:
        raise InputError(f"{path}: its {what} is not valid JSON; not a Keras model?") from None


def _h5_config(kf: KerasFile):
    text = kf.h5().attrs.get("model_config")
    return None if text is None else _json(text, kf.path, "model_config")


def _zip_config(kf: KerasFile):
    with kf.zip() as z:
        try:
            text = z.read("config.json")
        except (KeyError, OSError, ValueError):  # ValueError: zipfile's damaged-member errors
            raise InputError(f"{kf.path}: not a .keras archive with a config.json "
                             f"(damaged?)") from None
    return _json(text, kf.path, "config.json")


def _saved_model_layers(path: Path) -> List[str]:
    # keras_metadata.pb holds one JSON string per layer inside protobuf framing; scanning the
    # bytes needs no TensorFlow (and tf.saved_model.load runs graphs, not the Lambda's Python)
    meta = path / "keras_metadata.pb"
    if not meta.is_file():
        return []
    text = meta.read_bytes().decode("utf-8", "replace")
    names = []
    for m in re.finditer(r'"class_name":\s*"(?:Lambda|__lambda__)"', text):
        name = re.search(r'"name":\s*"([^"]+)"', text[m.end():m.end() + 2000])
        names.append(name.group(1) if name else "Lambda")
    return names


def code_layers_in(kf: KerasFile) -> List[str]:
    """Names of the code-carrying layers of the open model file ``kf``, read in the format
    ``kf`` decided (what the loader then loads from the same handle)."""
    config = _h5_config(kf) if kf.format == "h5" else _zip_config(kf)
    return list(dict.fromkeys(_walk(config))) if config is not None else []


def code_layers(path) -> List[str]:
    """Names of the layers of the saved model at ``path`` that carry Python code.

    Raises:
        InputError: the file is not a Keras model file (by its first bytes), is both HDF5
            and zip, or its configuration cannot be read.
    """
    path = Path(path)
    if path.is_dir():
        return _saved_model_layers(path)
    with KerasFile(path) as kf:
        return code_layers_in(kf)


def refuse_code_layers(path, kf: Optional[KerasFile] = None) -> None:
    """``InputError`` naming the file and its first code-carrying layer, if it has one
    (read through the open ``kf`` when given)."""
    names = code_layers_in(kf) if kf is not None else code_layers(path)
    if names:
        more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
        raise InputError(
            f"{path}: layer '{names[0]}'{more} is a Lambda carrying Python code that loading "
            f"would run; refused. Only for a model from a source you trust: pass "
            f"--trust-model-code or set {TRUST_ENV}=1")


# the help of --trust-model-code, in every command that loads models
TRUST_HELP = ("load a Keras model even if it has Lambda layers, whose Python code then runs "
              f"(only for models from a source you trust; also {TRUST_ENV}=1)")


def add_trust_flag(parser) -> None:
    """``--trust-model-code`` for the commands that load Keras models (argparse parser)."""
    parser.add_argument(
        "--trust-model-code", action="store_true",
        help=TRUST_HELP)


def apply_trust_flag(args) -> None:
    """Make ``--trust-model-code`` the process's policy: the models are loaded deep inside the
    tools (export, convert, engines), which all follow ``$LANECAM_TRUST_MODEL_CODE``."""
    if getattr(args, "trust_model_code", False):
        os.environ[TRUST_ENV] = "1"
