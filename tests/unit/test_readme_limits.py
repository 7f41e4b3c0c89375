"""The README's limits block is a working config file that states every limit's default."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from weir.core.config import LIMITS, ServerConfig, load_config

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_the_limits_block_loads_and_states_every_default(tmp_path: Path) -> None:
    (block,) = re.findall(r"```toml\n(.*?)```", README, flags=re.DOTALL)
    path = tmp_path / "weir-server.toml"
    path.write_text(block)
    stated = tomllib.loads(block)
    assert load_config(path, env={}) == ServerConfig()  # the defaults, as it says
    assert set(LIMITS) <= set(stated), f"limits missing from README: {set(LIMITS) - set(stated)}"
    defaults = ServerConfig()
    assert {k: getattr(defaults, k) for k in stated} == stated
