import shutil
from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = Path(__file__).parent.parent / "seeds"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A private source folder and warehouse, wired through the SALESPIPE_* variables."""
    source = tmp_path / "exports"
    monkeypatch.setenv("SALESPIPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SALESPIPE_SOURCE_DIR", str(source))
    monkeypatch.setenv("SALESPIPE_WAREHOUSE", str(tmp_path / "data" / "warehouse.duckdb"))
    monkeypatch.setenv("SALESPIPE_AS_OF", "2024-03-31")
    return Workspace(source, tmp_path / "data" / "warehouse.duckdb")


class Workspace:
    def __init__(self, source: Path, warehouse: Path):
        self.source, self.warehouse = source, warehouse

    def copy_fixture(self, name: str = "small") -> "Workspace":
        shutil.copytree(FIXTURES / name, self.source, dirs_exist_ok=True)
        return self

    def query(self, sql: str, params=None) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def scalar(self, sql: str, params=None):
        return self.query(sql, params)[0][0]
