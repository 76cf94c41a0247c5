"""The README's tables of the marts BI reads list exactly the columns the dbt project documents.

The dbt docs (`models/marts/_marts__models.yml`, `_person_marts__models.yml`, `_dq__models.yml`)
are the source: every model there has an enforced contract with a data type for each column, and
its README row names each of those columns and no other. Descriptions reach the database as
comments (`persist_docs`), which Superset and Metabase show.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DBT = ROOT / "dbt_project"
MARTS_YML = (
    DBT / "models/marts/_marts__models.yml",
    DBT / "models/marts/_person_marts__models.yml",
    DBT / "models/marts/_dq__models.yml",
)
SECTION = "## The marts for BI tools"


def _documented() -> dict[str, dict]:
    models = {}
    for path in MARTS_YML:
        for model in yaml.safe_load(path.read_text())["models"]:
            models[model["name"]] = model
    return models


def _readme_rows() -> dict[str, list[str]]:
    """Each table row of the README's marts section: the table's name -> the columns it names."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) + len(SECTION) :]
    section = section[: section.find("\n## ")] if "\n## " in section else section
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not re.fullmatch(r"`[\w.]+`", cells[0]):
            continue
        name = cells[0].strip("`").rsplit(".", 1)[-1]
        # examples and values are in parentheses: `district_code` (`64.02`)
        columns = re.sub(r"\([^)]*\)", "", cells[2])
        rows[name] = re.findall(r"`([a-z_][a-z0-9_]*)`", columns)
    return rows


def test_every_mart_has_a_readme_row():
    assert set(_readme_rows()) == set(_documented())


def test_readme_rows_list_the_documented_columns():
    rows = _readme_rows()
    for name, model in _documented().items():
        documented = [column["name"] for column in model["columns"]]
        listed = rows[name]
        assert len(listed) == len(set(listed)), (name, "a column listed twice")
        assert set(documented) - set(listed) == set(), (name, "documented, not in the README")
        assert set(listed) - set(documented) == set(), (name, "in the README, not documented")


def test_marts_have_enforced_contracts_with_data_types():
    for name, model in _documented().items():
        assert model.get("config", {}).get("contract") == {"enforced": True}, name
        untyped = [c["name"] for c in model["columns"] if not c.get("data_type")]
        assert untyped == [], name


def test_dq_models_have_their_own_schema():
    for name, model in _documented().items():
        schema = model.get("config", {}).get("schema")
        assert schema == ("dq" if name.startswith("dq_") else None), name


def test_descriptions_reach_the_database():
    project = yaml.safe_load((DBT / "dbt_project.yml").read_text())
    assert project["models"]["cakupan"]["+persist_docs"] == {"relation": True, "columns": True}
    for name, model in _documented().items():
        assert model.get("description"), name
        assert all(column.get("description") for column in model["columns"]), name
