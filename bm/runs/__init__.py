"""Run folders and the files bm writes: one module per job (files: atomic writes and checked readers; locks: one writer
per folder; saved: torch files, never unpickled; provenance; folder: a run's config and records). Everything is
importable from bm.runs."""

from bm.runs.files import (
    append_line,
    atomic_write,
    atomic_write_text,
    iter_jsonl,
    read_csv_rows,
    read_json,
    read_jsonl,
    write_csv_rows,
    write_json,
)
from bm.runs.folder import RunFolder, prepare_run_folder, run_record
from bm.runs.locks import lock_folder
from bm.runs.provenance import provenance
from bm.runs.saved import atomic_save, convert_saved, read_saved

__all__ = [
    "RunFolder",
    "append_line",
    "atomic_save",
    "atomic_write",
    "atomic_write_text",
    "convert_saved",
    "iter_jsonl",
    "lock_folder",
    "prepare_run_folder",
    "provenance",
    "read_csv_rows",
    "read_json",
    "read_jsonl",
    "read_saved",
    "run_record",
    "write_csv_rows",
    "write_json",
]
