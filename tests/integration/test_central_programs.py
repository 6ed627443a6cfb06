"""The chain's programs travel down the changes feed (real PostgreSQL): central versions its program
files, stores adopt a newer version at once and keep it across restarts, and never go back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pos_referral.bootstrap import build_store
from pos_referral.central.changes import read_changes
from pos_referral.db.models_central import ChainProgram
from pos_referral.domain.identity import normalise_phone
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.services.unit_of_work import UnitOfWork
from pos_referral.sync.relay import CHANGES_CURSOR
from tests.conftest import FakeClock
from tests.postgres_support import (
    CentralServer,
    ChainStore,
    chain_settings,
    fresh_database,
    new_chain_store,
    start_central,
)

pytestmark = pytest.mark.postgres
PROGRAM = "bring-a-friend"


@pytest.fixture
def chain(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[str, CentralServer, ChainStore]]:
    with fresh_database() as url:
        central = start_central(url, tmp_path, clock, pool_size=3)
        server = CentralServer(central)
        store = new_chain_store(central, tmp_path, 1, server.url, clock)
        try:
            store.relay.sync(max_attempts=3)
            yield url, server, store
        finally:
            server.stop()
            store.store.close()
            central.close()


def _central_program_file(tmp_path: Path, name: str = PROGRAM) -> Path:
    return chain_settings(tmp_path, 0).config_dir / "programs" / f"{name}.toml"


def _restart_central_worker(url: str, tmp_path: Path, clock: FakeClock) -> None:
    """A central worker starting with the (edited) config publishes what changed."""
    start_central(url, tmp_path, clock, pool_size=1).close()


def _versions(db_engine: sa.Engine) -> dict[str, int]:
    with db_engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(sa.select(ChainProgram.program_id, ChainProgram.version))}


def _percent(store: ChainStore) -> str:
    program = store.store.ctx.settings.program(PROGRAM)
    assert program is not None
    return str(program.friend_reward.percent)


def test_a_store_takes_the_chains_program_and_a_changed_program_reaches_its_tills_at_once(
    chain: tuple[str, CentralServer, ChainStore], tmp_path: Path, clock: FakeClock
) -> None:
    url, server, store = chain
    assert _versions(server.central.ctx.db.write_engine) == {PROGRAM: 1}
    assert _versions(store.store.db.write_engine) == {PROGRAM: 1}  # adopted on joining
    ann = issue_code(store.store.ctx, CustomerInput(identity=normalise_phone("+4791000001")), channel="api",
                     till_id="T1").code
    before = store.redeem(ann, "+4791000002", basket_minor=5000)
    assert isinstance(before, dict) and before["discount"] == "5.00"

    path = _central_program_file(tmp_path)
    path.write_text(path.read_text().replace('percent = "10"', 'percent = "20"', 1))
    _restart_central_worker(url, tmp_path, clock)
    assert _versions(server.central.ctx.db.write_engine) == {PROGRAM: 2}
    store.relay.sync(max_attempts=3)

    assert _versions(store.store.db.write_engine) == {PROGRAM: 2}
    assert _percent(store) == "20"
    after = store.redeem(ann, "+4791000003", basket_minor=5000)
    assert isinstance(after, dict) and after["discount"] == "10.00"


def test_an_unchanged_program_is_not_published_again_and_comments_do_not_count(
    chain: tuple[str, CentralServer, ChainStore], tmp_path: Path, clock: FakeClock
) -> None:
    url, server, _ = chain
    path = _central_program_file(tmp_path)
    path.write_text("# edited by the chain's marketing team\n" + path.read_text())
    _restart_central_worker(url, tmp_path, clock)
    _restart_central_worker(url, tmp_path, clock)
    programs = [c for c in read_changes(server.central.ctx.db, 0, 100) if c["kind"] == "program"]
    assert [c["payload"]["version"] for c in programs] == [1]


def test_a_new_program_arrives_and_the_adopted_programs_survive_a_restart(
    chain: tuple[str, CentralServer, ChainStore], tmp_path: Path, clock: FakeClock
) -> None:
    url, _, store = chain
    main = _central_program_file(tmp_path)
    main.write_text(main.read_text().replace('percent = "10"', 'percent = "15"', 1))
    summer = _central_program_file(tmp_path, "summer")
    summer.write_text(main.read_text().replace(f'id = "{PROGRAM}"', 'id = "summer"', 1)
                      .replace("default = true", "default = false", 1))
    _restart_central_worker(url, tmp_path, clock)
    store.relay.sync(max_attempts=3)
    assert store.store.ctx.settings.program("summer") is not None

    settings = store.store.ctx.settings
    store.store.close()
    own_files = chain_settings(tmp_path, 1)  # the store's own program files still say 10%
    assert str(own_files.program(PROGRAM).friend_reward.percent) == "10"  # type: ignore[union-attr]
    restarted = build_store(settings.model_copy(update={"programs": own_files.programs}), clock=clock)
    store.store = restarted
    assert _percent(store) == "15"
    assert restarted.ctx.settings.program("summer") is not None
    assert restarted.ctx.settings.default_program.id == PROGRAM


def test_replaying_the_whole_feed_never_takes_a_store_back_to_an_older_program(
    chain: tuple[str, CentralServer, ChainStore], tmp_path: Path, clock: FakeClock
) -> None:
    url, _, store = chain
    path = _central_program_file(tmp_path)
    for percent in ("15", "20"):
        path.write_text(path.read_text().replace('percent = "10"', f'percent = "{percent}"', 1)
                        .replace('percent = "15"', f'percent = "{percent}"', 1))
        _restart_central_worker(url, tmp_path, clock)
    store.relay.sync(max_attempts=3)
    assert _versions(store.store.db.write_engine) == {PROGRAM: 3} and _percent(store) == "20"
    with UnitOfWork(store.store.db, write=True) as uow:  # lose the cursor: the feed comes again from the start
        store.relay._set_counter(uow.conn, CHANGES_CURSOR, 0)
        uow.commit()
    store.relay.sync(max_attempts=3)
    assert _versions(store.store.db.write_engine) == {PROGRAM: 3} and _percent(store) == "20"
