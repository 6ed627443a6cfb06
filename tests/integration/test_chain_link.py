"""Where a shop that joined a chain later finds central: chain.json beside its secrets, 0600."""

from __future__ import annotations

import stat
from pathlib import Path

from pos_referral.chain_link import ChainLink, save_link, with_chain_link
from tests.postgres_support import chain_settings


def test_a_joined_shop_knows_central_from_its_data_folder_and_the_config_still_wins(tmp_path: Path) -> None:
    standalone = chain_settings(tmp_path, 1)
    assert with_chain_link(standalone).config.central.url == ""  # never joined: standalone
    save_link(standalone.data_dir, ChainLink("http://central:8100", "store1_secret"))
    joined = with_chain_link(standalone).config.central
    assert (joined.url, joined.token) == ("http://central:8100", "store1_secret")
    assert stat.S_IMODE((standalone.data_dir / "chain.json").stat().st_mode) == 0o600
    assert "store1_secret" not in repr(ChainLink("http://central:8100", "store1_secret"))
    configured = chain_settings(tmp_path, 1, "http://other:8100", "store1_other")
    assert with_chain_link(configured).config.central.url == "http://other:8100"
