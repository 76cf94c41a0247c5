"""The transform DAG's worklist task: the worklist workbooks after the build
(cakupan.worklists)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def write_district_worklists() -> dict[str, dict]:
    """Every district with person data: its latest month's worklists, one XLSX per kecamatan,
    into `CAKUPAN_WORKLIST_DIR/<district>/`. Returns paths and counts (never a name)."""
    from cakupan import config
    from cakupan.warehouse import connect
    from cakupan.worklists import write_all_worklists

    from cakupan_airflow.common import warehouse_params

    out = config.worklist_dir()
    conn = connect(warehouse_params(), application_name="cakupan_transform.worklists")
    try:
        written = write_all_worklists(conn, out)
    finally:
        conn.close()
    summary = {
        district: {
            "files": [str(f.path) for f in files],
            "rows": sum(f.rows for f in files),
            "sheets": sum(len(f.sheets) for f in files),
        }
        for district, files in written.items()
    }
    for district, done in summary.items():
        log.info("%s: %s worklist files, %s rows, in %s", district, len(done["files"]),
                 done["rows"], out / district)  # fmt: skip
    if not summary:
        log.info("no district has person data yet: no worklists written")
    return summary
