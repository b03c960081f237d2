"""Which source reads which URI: a list of plugins matched by cheap string tests, imported lazily.

Two different failures are kept apart: no plugin can read the URI (``InputError``: the user gave
something we do not understand), and the plugin that can read it needs a library that is not
installed (``MissingDependencyError``: the message says what to install).
"""

import glob
import importlib
import os
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lazy import require
from lanecam.pipeline.sources.base import Source

__all__ = ["SourcePlugin", "open_source", "register_source", "unregister_source",
           "source_plugins", "find_plugin", "local_path"]

_IMAGE_EXT = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def _scheme(uri: str) -> Optional[str]:
    head, sep, _ = uri.partition("://")
    return head.lower() if sep and head.isidentifier() else None


def _path_of(uri: str) -> str:
    return uri[len("file://"):] if uri.lower().startswith("file://") else uri


def _is_gstreamer(uri: str) -> bool:
    # a pipeline joins its elements with "!"; a file name may hold one too ("wow!.mp4"):
    # an existing file or folder is a file or folder, never a pipeline
    return "!" in uri and _scheme(uri) is None and not os.path.exists(uri)


def _is_camera(uri: str) -> bool:
    return uri.isdigit() or uri.startswith("/dev/video")


def _is_images(uri: str) -> bool:
    if _scheme(uri) not in (None, "file"):
        return False
    path = _path_of(uri)
    return (os.path.isdir(path) or glob.has_magic(path)
            or path.lower().endswith(_IMAGE_EXT))


def _is_mcap(uri: str) -> bool:
    return _scheme(uri) in (None, "file") and _path_of(uri).lower().endswith(".mcap") \
        and not os.path.isdir(_path_of(uri))


def _is_rosbag(uri: str) -> bool:
    if _scheme(uri) not in (None, "file"):
        return False
    path = _path_of(uri)
    # a ROS 2 bag is a folder: claimed before the image-folder plugin looks at it
    return (path.lower().endswith(".bag") or os.path.basename(path) == "metadata.yaml"
            or os.path.isfile(os.path.join(path, "metadata.yaml")))


def _is_video_path(uri: str) -> bool:
    return _scheme(uri) in (None, "file") and not _is_gstreamer(uri)


@dataclass
class SourcePlugin:
    """One kind of source.

    Attributes:
        name: short name (``open_source(uri, plugin=name)`` forces it).
        factory: ``"module:function"`` building the (unopened) ``Source`` from
            ``(uri, **options)``; imported only when the plugin is used.
        schemes: URI schemes it reads (``rtsp``...); a URI with one of them matches.
        match: extra test for URIs without a scheme of its own (paths, camera indices).
        requires: (module, extra) pairs of optional libraries; ``extra`` None for base
            dependencies such as OpenCV.
        description: what it reads, for error messages.
        paced: whether ``realtime=True`` means something (files, folders, synthetic); for
            sources that are live anyway the option is accepted and ignored.
    """

    name: str
    factory: str
    schemes: Tuple[str, ...] = ()
    match: Optional[Callable[[str], bool]] = None
    requires: Tuple[Tuple[str, Optional[str]], ...] = (("cv2", None),)
    description: str = ""
    paced: bool = False

    def can_read(self, uri: str) -> bool:
        """Cheap test (no imports, no I/O beyond a stat) whether this plugin reads ``uri``."""
        scheme = _scheme(uri)
        if scheme is not None and scheme in self.schemes:
            return True
        return bool(self.match and self.match(uri))

    def check_libraries(self) -> None:
        """Raise ``MissingDependencyError`` for the first required library that is missing."""
        for module, extra in self.requires:
            if module == "cv2":
                from lanecam.pipeline.sources.capture import import_cv2

                import_cv2(f"{self.name} sources")
            else:
                require(module, extra or "", f"{self.name} sources")

    def create(self, uri: str, **options) -> Source:
        """Check the libraries, import the factory and build the source (not yet opened)."""
        self.check_libraries()
        if not self.paced:
            options.pop("realtime", None)
        module, _, func = self.factory.partition(":")
        return getattr(importlib.import_module(module), func)(uri, **options)


# Order matters: the first plugin that can read a URI wins, the video file is the fallback.
_PLUGINS: List[SourcePlugin] = [
    SourcePlugin("gstreamer", "lanecam.pipeline.sources.camera:open_gstreamer", match=_is_gstreamer,
                 description="a GStreamer pipeline ('... ! appsink')"),
    SourcePlugin("synthetic", "lanecam.pipeline.sources.synthetic:open_synthetic", ("synthetic",),
                 description="synthetic://?width=&height=&fps=&seed=&frames=&live=", paced=True),
    SourcePlugin("camera", "lanecam.pipeline.sources.camera:open_camera", ("v4l2",), match=_is_camera,
                 description="a camera: N, /dev/videoN, v4l2://N"),
    SourcePlugin("csi", "lanecam.pipeline.sources.camera:open_csi", ("csi",),
                 description="a Jetson CSI camera: csi://N"),
    SourcePlugin("stream", "lanecam.pipeline.sources.stream:open_stream",
                 ("rtsp", "rtsps", "http", "https"),
                 description="a stream: rtsp://, http(s)://"),
    SourcePlugin("mcap", "lanecam.pipeline.sources.mcap_file:open_mcap", ("mcap",), match=_is_mcap,
                 requires=(("cv2", None), ("mcap", "robotics")),
                 description="an MCAP file: PATH.mcap or mcap://PATH.mcap?topic=NAME",
                 paced=True),
    SourcePlugin("rosbag", "lanecam.pipeline.sources.rosbag:open_rosbag", ("rosbag",),
                 match=_is_rosbag, requires=(("cv2", None), ("rosbags", "robotics")),
                 description="a ROS bag: PATH.bag (ROS 1), a ROS 2 bag folder (metadata.yaml) "
                             "or rosbag://PATH?topic=NAME", paced=True),
    SourcePlugin("images", "lanecam.pipeline.sources.images:open_images", match=_is_images,
                 description="an image folder, glob or image file", paced=True),
    SourcePlugin("video", "lanecam.pipeline.sources.video_file:open_video_file", ("file",),
                 match=_is_video_path, description="a video file (path or file://)", paced=True),
]


def local_path(uri: str) -> str:
    """The file or folder behind a source URI, for the check that outputs never overwrite
    it: ``file://P``, ``mcap://P?topic=T`` and ``rosbag://P?topic=T`` give ``P``; anything
    else is returned as it is (a plain path, or a URL that names no local file)."""
    scheme = _scheme(uri)
    if scheme in ("mcap", "rosbag"):
        from urllib.parse import unquote

        return unquote(uri[len(scheme) + 3:].partition("?")[0])
    return _path_of(uri)


def source_plugins() -> List[SourcePlugin]:
    """The registered plugins, in matching order."""
    return list(_PLUGINS)


def register_source(plugin: SourcePlugin, first: bool = True) -> None:
    """Add ``plugin`` (before the built-ins by default, so it can claim URIs they would take)."""
    others = [p for p in _PLUGINS if p.name != plugin.name]
    _PLUGINS[:] = [plugin] + others if first else others + [plugin]


def unregister_source(name: str) -> None:
    """Remove the plugin called ``name`` (no error when there is none)."""
    _PLUGINS[:] = [p for p in _PLUGINS if p.name != name]


def find_plugin(uri: str, plugin: Optional[str] = None) -> SourcePlugin:
    """The plugin that reads ``uri`` (or the one named ``plugin``, if it can)."""
    if plugin is not None:
        named = [p for p in _PLUGINS if p.name == plugin]
        if not named:
            raise InputError(f"unknown source plugin {plugin!r}; expected one of "
                             f"{', '.join(p.name for p in _PLUGINS)}")
        if not named[0].can_read(uri):
            raise InputError(f"the {plugin} source can't read {uri!r}: expected "
                             f"{named[0].description}")
        return named[0]
    for candidate in _PLUGINS:
        if candidate.can_read(uri):
            return candidate
    raise InputError(f"no source can read {uri!r}; expected one of: "
                     + "; ".join(p.description for p in _PLUGINS))


def open_source(uri, plugin: Optional[str] = None, **options) -> Source:
    """The ``Source`` for ``uri`` (a path, URL, camera index or GStreamer pipeline), not yet opened.

    Args:
        uri: see ``lanecam.pipeline.sources`` for the accepted forms; an int is a camera index.
        plugin: force a plugin by name instead of matching.
        **options: plugin options (``realtime=True`` for files and folders; stream timeouts...);
            they override the URI's query parameters. None values are ignored.

    Raises:
        InputError: nothing can read ``uri``, or an option is unknown or invalid.
        MissingDependencyError: the plugin that reads it needs a library that is missing.
    """
    uri = str(uri).strip()
    if not uri:
        raise InputError("empty source: expected a file, folder, camera, URL or pipeline")
    options = {k: v for k, v in options.items() if v is not None}
    return find_plugin(uri, plugin).create(uri, **options)
