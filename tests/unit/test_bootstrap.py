"""shared.bootstrap: the runtime is built over fakes through the constructor the function app uses, and the caller
policy defaults to no one, except in the explicit local mode."""

from __future__ import annotations

import json

import pytest

from shared.bootstrap import bootstrap, caller_policy
from shared.config import ConfigError, Settings
from shared.domain.policy import Policy
from shared.engine import Engine
from shared.services.outbox import Outbox
from tests.fakes import FakeArm, FakeClock, FakeSecrets, FakeStateStore, FakeStepQueue
from tests.principals import pid, principal

SUB = "00000000-0000-0000-0000-000000000000"
ALICE = principal("alice")


def engine_with(outbox: Outbox | None, clock: FakeClock) -> Engine:
    return Engine(operations=FakeStateStore(), clusters=FakeStateStore(), queue=FakeStepQueue("steps", clock=clock),
                  arm=FakeArm(), clock=clock, secrets=FakeSecrets(), lifecycle=outbox)


def test_the_runtime_is_built_over_fakes_with_every_service_wired_to_the_same_engine_and_clock():
    clock = FakeClock()
    outbox = Outbox(FakeStateStore(), clock)
    engine = engine_with(outbox, clock)
    rt = bootstrap(Settings(), engine, outbox=outbox, rejected=FakeStateStore(), events=FakeStateStore())
    assert rt.engine is engine and rt.outbox is outbox and rt.publisher is None
    assert rt.clusters.engine is engine and rt.event_intake.engine is engine
    assert rt.tickets.publish is outbox and rt.tickets.clock is clock and rt.rejected.clock is clock
    assert set(rt.tickets.mappings) == {"jira", "github", "servicenow", "generic"}


def test_an_engine_that_does_not_record_in_the_runtimes_outbox_is_refused():
    clock = FakeClock()
    with pytest.raises(ValueError, match="outbox"):
        bootstrap(Settings(), engine_with(None, clock), outbox=Outbox(FakeStateStore(), clock),
                  rejected=FakeStateStore(), events=FakeStateStore())


def test_a_policy_passed_in_wins_over_the_settings():
    clock = FakeClock()
    outbox = Outbox(FakeStateStore(), clock)
    only_alice = Policy.model_validate({"rules": [{"principals": [pid("alice")], "subscriptions": ["*"],
                                                   "resourceGroups": ["*"]}]})
    rt = bootstrap(Settings(local=True), engine_with(outbox, clock), outbox=outbox, rejected=FakeStateStore(),
                   events=FakeStateStore(), policy=only_alice)
    assert rt.clusters.policy is only_alice


def test_without_a_policy_no_one_may_do_anything_outside_local_mode():
    assert not caller_policy(Settings()).allows(ALICE, SUB, "rg-x", "read")
    # the emulator's endpoint does not imply local mode: outside it, it is refused (the ARM token would go there)
    with pytest.raises(ConfigError, match="AKSVEND_ARM_ENDPOINT"):
        Settings(arm_endpoint="https://127.0.0.1:8443")


def test_without_a_policy_everyone_may_do_everything_in_local_mode():
    assert caller_policy(Settings(local=True)).allows(ALICE, SUB, "rg-x", "delete")


def test_a_configured_policy_holds_in_local_mode_too():
    policy = json.dumps({"rules": [{"principals": [pid("bob")], "subscriptions": ["*"], "resourceGroups": ["*"]}]})
    assert not caller_policy(Settings(local=True, caller_policy=policy)).allows(ALICE, SUB, "rg-x", "read")


def test_a_malformed_policy_is_a_configuration_error_naming_the_setting():
    with pytest.raises(ConfigError, match="AKSVEND_CALLER_POLICY"):
        caller_policy(Settings(caller_policy='{"rules": [{"nope": 1}]}'))
