"""The code location: every Dagster object under `defs/`, found by walking the folder.

`dagster dev`, `dagster asset materialize -m dataset_catalog.definitions`, workspace.yaml and
`dg` (pyproject's [tool.dg]) all load this module; a new folder under defs/ needs no edit here.
"""

from pathlib import Path

import dagster as dg

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
