"""tfvidgen.atomic_files: whole files or none, with the permissions of any other file the user writes."""

import os
import stat

import pytest

from tfvidgen import atomic_files


def test_written_files_get_the_umask_mode_not_mkstemps_private_one(tmp_path):
    mask = os.umask(0)
    os.umask(mask)
    expected = 0o666 & ~mask
    assert atomic_files.FILE_MODE == expected
    written = atomic_files.write_json(tmp_path / "config.json", {"a": 1})
    assert stat.S_IMODE(os.stat(written).st_mode) == expected
    with atomic_files.atomic_path(tmp_path / "model.keras") as temporary:
        assert stat.S_IMODE(os.stat(temporary).st_mode) == expected
        with open(temporary, "r+b") as file:  # A writer that opens the file in place keeps its mode.
            file.write(b"weights")
    assert stat.S_IMODE(os.stat(tmp_path / "model.keras").st_mode) == expected
    if mask & 0o044 == 0:  # The usual umask: others may read, as TF Serving running as another user must.
        assert expected & 0o044 == 0o044


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = atomic_files.write_text(tmp_path / "summary.json", "old\n")
    with pytest.raises(RuntimeError):
        with atomic_files.atomic_path(path) as temporary:
            with open(temporary, "w") as file:
                file.write("half of the new")
            raise RuntimeError("killed mid-write")
    assert open(path).read() == "old\n" and sorted(os.listdir(tmp_path)) == ["summary.json"]
    leftover = atomic_files.temporary_path(tmp_path / "metrics.csv")  # What a SIGKILLed writer leaves.
    assert os.path.basename(leftover).startswith(".metrics.csv.tmp-") and leftover.endswith(".csv")
    assert atomic_files.remove_leftovers(tmp_path) == [os.path.basename(leftover)]
    assert sorted(os.listdir(tmp_path)) == ["summary.json"]
