"""What the INPUTs of ``lanecam batch`` name: files, folders, globs, manifests (no Ray needed)."""

import os

import pytest

from lanecam.pipeline.batch.inputs import discover, video_id_for


def _touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def archive(tmp_path):
    """drives/ with videos at two depths, an image folder, hidden files and a results folder."""
    root = tmp_path / "drives"
    _touch(root / "2024-01-01" / "cam_front.mp4", b"a" * 10)
    _touch(root / "2024-01-02" / "cam_front.mp4", b"b" * 20)
    _touch(root / "2024-01-02" / "notes.txt")  # not a video: a folder search ignores it
    _touch(root / "b.MKV")
    for i in (2, 10, 1):
        _touch(root / "frames" / f"f{i}.jpg", b"j" * i)
    _touch(root / ".cache" / "old.mp4")
    _touch(root / "2024-01-01" / ".cam_front.staging-12.mp4")
    _touch(root / "results" / "videos" / "cam_front-1234abcd.mp4")
    return root


def test_a_folder_is_searched_recursively_with_image_folders_as_one_sequence(archive):
    jobs, bad = discover([str(archive)], exclude=str(archive / "results"))
    assert bad == []
    assert [(os.path.relpath(j.path, archive), j.kind) for j in jobs] == [
        ("2024-01-01/cam_front.mp4", "video"), ("2024-01-02/cam_front.mp4", "video"),
        ("b.MKV", "video"), ("frames", "images")]
    frames = jobs[-1]
    assert frames.size == 13 and frames.source == str(archive / "frames")
    # two days' cam_front.mp4 never share output files
    assert len({j.video_id for j in jobs}) == 4
    assert jobs[0].video_id.startswith("cam_front-") and jobs[0].size == 10
    assert jobs[0].mtime_ns == os.stat(jobs[0].path).st_mtime_ns


def test_globs_expand_and_a_glob_of_images_is_one_sequence(archive):
    jobs, bad = discover([str(archive / "*" / "*.mp4"), str(archive / "frames" / "*.jpg"),
                          str(archive / "*.avi")])
    assert [os.path.relpath(j.path, archive) for j in jobs] == [
        "2024-01-01/cam_front.mp4", "2024-01-02/cam_front.mp4", "frames/*.jpg"]
    assert jobs[-1].kind == "images" and jobs[-1].size == 13
    assert [(b.text, b.reason) for b in bad] == [(str(archive / "*.avi"), "matches no file")]


def test_manifests_list_paths_relative_to_themselves(archive, tmp_path):
    txt = _touch(tmp_path / "list.txt", b"# day one\ndrives/2024-01-01/cam_front.mp4\n\n"
                                        b"drives/missing.mp4\n")
    csv_with_header = _touch(tmp_path / "list.csv",
                             b"id,path\n7,drives/b.MKV\n8,drives/frames\n")
    csv_plain = _touch(tmp_path / "plain.csv", f"{archive}/2024-01-02/cam_front.mp4,x\n".encode())
    jobs, bad = discover([str(txt), str(csv_with_header), str(csv_plain)])
    assert [os.path.relpath(j.path, archive) for j in jobs] == [
        "2024-01-01/cam_front.mp4", "b.MKV", "frames", "2024-01-02/cam_front.mp4"]
    assert [(b.text, b.reason) for b in bad] == [
        (f"{txt}: {tmp_path}/drives/missing.mp4", "no such file or folder")]


def test_each_video_once_in_the_order_given(archive):
    one = archive / "b.MKV"
    jobs, _ = discover([str(one), str(archive), f"{archive}/../drives/b.MKV"],
                       exclude=str(archive / "results"))
    paths = [j.path for j in jobs]
    assert paths[0] == str(one) and paths.count(str(one)) == 1 and len(paths) == 4


def _empty_folder(t):
    (t / "empty").mkdir()
    return t / "empty"


def _nested_manifest(t):
    _touch(t / "inner.txt", b"a.mp4\n")
    return _touch(t / "m.txt", b"inner.txt\n")


@pytest.mark.parametrize("make, reason", [
    (lambda t: t / "nope.mp4", "no such file or folder"),
    (_empty_folder, "no videos or image folders"),
    (lambda t: _touch(t / "m.txt", b"\n# nothing\n"), "an empty manifest"),
    (lambda t: _touch(t / "m.txt", b"caf\xe9.mp4\n"), "not UTF-8"),
    (_nested_manifest, "a manifest inside a manifest"),
])
def test_inputs_that_name_nothing_are_reported_with_the_reason(tmp_path, make, reason):
    path = make(tmp_path)
    jobs, bad = discover([str(path)])
    assert jobs == []
    assert len(bad) == 1 and reason in bad[0].reason


def test_video_ids_are_file_name_safe_and_differ_by_path():
    a, b = video_id_for("/x/day 1/cam front.mp4"), video_id_for("/x/day 2/cam front.mp4")
    assert a != b and a.startswith("cam_front-") and "/" not in a and " " not in a


@pytest.mark.parametrize("side", ["input through a link", "output through a link"])
def test_the_output_folder_is_left_out_however_it_is_reached(archive, tmp_path, side):
    """Issue 25 #5: ``lanecam batch LINK --out DIR/results`` with LINK -> DIR searched the
    annotated videos of the last run as inputs (paths compared unresolved)."""
    link = tmp_path / "link"
    link.symlink_to(archive)
    if side == "input through a link":
        inputs, out = [str(link)], archive / "results"
    else:
        inputs, out = [str(archive)], link / "results"
    for given, found in ((inputs, 4), ([os.path.join(inputs[0], "**", "*.mp4")], 2)):
        jobs, bad = discover(given, exclude=str(out))
        paths = [j.path for j in jobs]
        assert not any(os.sep + "results" + os.sep in p for p in paths), paths
        assert len(paths) == found and not bad, paths  # the cam_front.mp4s (b.MKV, frames/)
