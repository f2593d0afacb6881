"""A node without the HSDS core schemas says which setting to fix."""

from __future__ import annotations

import pytest

from services.offerings import profile
from shared.errors import Unavailable


def test_missing_core_schemas_are_refused_naming_hsds_schema_dir(tmp_path):
    with pytest.raises(Unavailable) as err:
        profile.compiled(tmp_path / "nowhere")
    assert err.value.details == {"setting": "HSDS_SCHEMA_DIR"}
    assert "HSDS_SCHEMA_DIR" in err.value.message_fr
    assert "HSDS_SCHEMA_DIR" in err.value.message_en
