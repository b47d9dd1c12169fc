"""Operations in stages (local/armemu/lro.py): each stage ends at its share of the operation's time and applies its
effect then, in order; `finish` applies what is left (not for a failed operation), `step` ends one stage, `held`
stops them all. A fake clock: no wall time."""

from __future__ import annotations

from local.armemu.lro import OperationBook


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def staged(book: OperationBook, seen: list[str], error: dict | None = None):
    op = book.start({"namespace": "n", "subscription": "s", "location": "l", "resource_id": "/r", "kind": "upgrade",
                     "running_state": "Upgrading", "on_finish": lambda _: seen.append("finished"), "error": error},
                    10.0)
    book.stage(op, [("a", 2.0, lambda: seen.append("a")), ("b", 3.0, None), ("c", 5.0, lambda: seen.append("c"))])
    return op


def test_stages_end_at_their_share_of_the_operation_in_order():
    clock, seen = Clock(), []
    book = OperationBook(clock)
    op = staged(book, seen)
    assert [s.end - 100.0 for s in op.stages] == [2.0, 5.0, 10.0]  # weights 2, 3, 5 over the 10 s it takes
    clock.now = 101.9
    book.settle()
    assert (op.phase, seen) == ("a", [])
    clock.now = 102.0
    book.settle()
    assert (op.phase, seen) == ("b", ["a"])
    clock.now = 110.0
    book.settle()
    assert (op.phase, op.status, seen) == (None, "Succeeded", ["a", "c", "finished"])


def test_held_operations_do_not_move_and_step_walks_them_one_stage_at_a_time():
    clock, seen = Clock(), []
    book = OperationBook(clock)
    op = staged(book, seen)
    book.held = True
    clock.now = 200.0
    book.settle()
    assert (op.phase, seen) == ("a", [])
    assert book.step("/R") == 1 and (op.phase, seen) == ("b", ["a"])  # resource ids are case-insensitive
    book.step("/r")
    assert (op.phase, op.done) == ("c", False)
    book.step("/r")  # the last stage ends the operation
    assert (op.status, seen) == ("Succeeded", ["a", "c", "finished"])
    assert book.step("/r") == 0


def test_finish_applies_the_remaining_stages_but_a_failed_operation_keeps_only_those_it_passed():
    clock, seen = Clock(), []
    book = OperationBook(clock)
    book.finish(staged(book, seen))
    assert seen == ["a", "c", "finished"]
    seen.clear()
    failed = staged(book, seen, error={"code": "X", "message": "injected"})
    clock.now += 3.0
    book.settle()
    book.finish(failed)
    assert (failed.status, seen) == ("Failed", ["a", "finished"])
